package vm

import (
	"slices"
	"testing"

	"github.com/b2c-dev/b2c/qemu"
)

func TestArgs(t *testing.T) {
	base := []string{
		"-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max",
		"-smp", "2", "-m", "512", "-nodefaults", "-nographic",
		"-serial", "stdio", "-no-reboot", "-kernel", "/k",
	}
	nic0 := []string{"-netdev", "user,id=n0", "-device", "virtio-net-pci,netdev=n0,romfile="}
	cat := func(parts ...[]string) []string { return slices.Concat(parts...) }
	for _, tt := range []struct {
		name string
		opts []Option
		want []string
	}{
		{
			name: "defaults",
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1"}, nic0),
		},
		{
			name: "initramfs and append",
			opts: []Option{Initramfs("/i.cpio"), Append(`b2c.run="echo hi"`, "quiet")},
			want: cat(base, []string{"-initrd", "/i.cpio", "-append", `console=ttyS0 panic=-1 b2c.run="echo hi" quiet`}, nic0),
		},
		{
			name: "memory smp",
			opts: []Option{Memory(2048), SMP(4)},
			want: cat([]string{
				"-machine", "q35", "-accel", "tcg,thread=single", "-cpu", "max",
				"-smp", "4", "-m", "2048", "-nodefaults", "-nographic",
				"-serial", "stdio", "-no-reboot", "-kernel", "/k",
			}, []string{"-append", "console=ttyS0 panic=-1"}, nic0),
		},
		{
			name: "disks",
			opts: []Option{Disk("/a.img"), Disk("/b,c.img")},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1",
				"-drive", "file=/a.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0",
				"-drive", "file=/b,,c.img,format=raw,if=none,id=d1", "-device", "virtio-blk-pci,drive=d1",
			}, nic0),
		},
		{
			name: "no nic",
			opts: []Option{NoNIC()},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1"}),
		},
		{
			name: "two nics and extra args",
			opts: []Option{NICs(2), QEMUArgs("-device", "virtio-rng-pci")},
			want: cat(base, []string{"-append", "console=ttyS0 panic=-1"}, nic0,
				[]string{"-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="},
				[]string{"-device", "virtio-rng-pci"}),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			c.machine.Kernel = "/k"
			for _, o := range tt.opts {
				o(&c)
			}
			if got := c.machine.Args(qemu.AccelTCG); !slices.Equal(got, tt.want) {
				t.Errorf("args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}
