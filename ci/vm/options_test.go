package vm

import (
	"slices"
	"testing"
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
		{
			name: "netboot over TFTP: no -kernel, the first NIC keeps its iPXE ROM",
			opts: []Option{NetBoot("/srv/tftp", "pxelinux.0"), NICs(2), Append("ignored")},
			want: cat(base[:len(base)-2],
				[]string{"-netdev", "user,id=n0,tftp=/srv/tftp,bootfile=pxelinux.0", "-device", "virtio-net-pci,netdev=n0,bootindex=0"},
				[]string{"-netdev", "user,id=n1", "-device", "virtio-net-pci,netdev=n1,romfile="}),
		},
		{
			name: "netboot over HTTP",
			opts: []Option{NetBoot("", "http://10.0.2.2:8080/boot.ipxe")},
			want: cat(base[:len(base)-2],
				[]string{"-netdev", "user,id=n0,bootfile=http://10.0.2.2:8080/boot.ipxe", "-device", "virtio-net-pci,netdev=n0,bootindex=0"}),
		},
		{
			name: "UEFI disk boot",
			opts: []Option{Firmware("/ovmf.fd"), DiskBoot(), Disk("/a.img"), Disk("/b.img")},
			want: cat(base[:len(base)-2], []string{"-bios", "/ovmf.fd",
				"-drive", "file=/a.img,format=raw,if=none,id=d0", "-device", "virtio-blk-pci,drive=d0,bootindex=0",
				"-drive", "file=/b.img,format=raw,if=none,id=d1", "-device", "virtio-blk-pci,drive=d1",
			}, nic0),
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			c.kernel = "/k"
			for _, o := range tt.opts {
				o(&c)
			}
			if got := c.args(accelTCG); !slices.Equal(got, tt.want) {
				t.Errorf("args:\n got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestKernelAppend(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, "console=ttyS0 panic=-1"},
		{[]string{"  quiet "}, "console=ttyS0 panic=-1 quiet"},
		{[]string{"console=ttyS0,115200 panic=5"}, "console=ttyS0,115200 panic=5"},
		{[]string{"panic=0", "console=ttyS0"}, "panic=0 console=ttyS0"},
		{[]string{"console=tty0"}, "console=ttyS0 panic=-1 console=tty0"},
		// Options quoted inside another option's value do not count.
		{[]string{`b2c.run="echo console=ttyS0 panic=1"`}, `console=ttyS0 panic=-1 b2c.run="echo console=ttyS0 panic=1"`},
	} {
		if got := kernelAppend(tt.in); got != tt.want {
			t.Errorf("kernelAppend(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestKernelFields(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"a  b", []string{"a", "b"}},
		{`a="b c" d`, []string{`a="b c"`, "d"}},
		{`a="b c`, []string{`a="b c`}},
	} {
		if got := kernelFields(tt.in); !slices.Equal(got, tt.want) {
			t.Errorf("kernelFields(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestShellQuote(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{[]string{"qemu", "-m", "512"}, "qemu -m 512"},
		{[]string{"-append", "console=ttyS0 panic=-1"}, "-append 'console=ttyS0 panic=-1'"},
		{[]string{`b2c.run="it's"`}, `'b2c.run="it'\''s"'`},
		{[]string{""}, "''"},
		{[]string{"romfile=", "user,id=n0"}, "romfile= user,id=n0"},
	} {
		if got := shellQuote(tt.in); got != tt.want {
			t.Errorf("shellQuote(%q) = %s, want %s", tt.in, got, tt.want)
		}
	}
}

func TestCleanLine(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"hello\r", "hello"},
		{"hello\r\r", "hello"},
		{"10%\r20%\r30%", "30%"},
		{"", ""},
		{"Booting from ROM..\x1bc\x1b[?7l\x1b[2J[    0.000000] Linux", "Booting from ROM..[    0.000000] Linux"},
		{"\x1b[0;32mOK\x1b[0m", "OK"},
	} {
		if got := cleanLine(tt.in); got != tt.want {
			t.Errorf("cleanLine(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
