package vm

import (
	"reflect"
	"testing"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// TestOptions checks what the options set; qemu's tests check the QEMU
// command line a machine gives.
func TestOptions(t *testing.T) {
	def := qemu.Machine{Kernel: "/k", MemoryMB: 512, SMP: 2, NICs: 1}
	with := func(f func(m *qemu.Machine)) qemu.Machine { m := def; f(&m); return m }
	for _, tt := range []struct {
		name string
		opts []Option
		want qemu.Machine
	}{
		{"defaults", nil, def},
		{"initramfs and append", []Option{Initramfs("/i.cpio"), Append(`b2c.run="echo hi"`, "quiet")},
			with(func(m *qemu.Machine) { m.Initramfs = "/i.cpio"; m.Append = []string{`b2c.run="echo hi"`, "quiet"} })},
		{"memory smp", []Option{Memory(2048), SMP(4)}, with(func(m *qemu.Machine) { m.MemoryMB, m.SMP = 2048, 4 })},
		{"disks", []Option{Disk("/a.img"), Disk("/b,c.img")}, with(func(m *qemu.Machine) { m.Disks = []string{"/a.img", "/b,c.img"} })},
		{"no nic", []Option{NoNIC()}, with(func(m *qemu.Machine) { m.NICs = 0 })},
		{"two nics and extra args", []Option{NICs(2), QEMUArgs("-device", "virtio-rng-pci")},
			with(func(m *qemu.Machine) { m.NICs = 2; m.Extra = []string{"-device", "virtio-rng-pci"} })},
		{"netboot", []Option{NetBoot("/srv/tftp", "pxelinux.0")},
			with(func(m *qemu.Machine) { m.NetBoot = &qemu.NetBoot{TFTP: "/srv/tftp", Bootfile: "pxelinux.0"} })},
		{"UEFI disk boot", []Option{Firmware("/ovmf.fd"), DiskBoot()},
			with(func(m *qemu.Machine) { m.BIOS = "/ovmf.fd"; m.DiskBoot = true })},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := defaultConfig()
			c.machine.Kernel = "/k"
			for _, o := range tt.opts {
				o(&c)
			}
			if !reflect.DeepEqual(c.machine, tt.want) {
				t.Errorf("machine:\n got %+v\nwant %+v", c.machine, tt.want)
			}
		})
	}
}
