package vm

import (
	"io"
	"time"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// config is what the options set; Start turns it into a QEMU command line.
type config struct {
	qemu    string
	machine qemu.Machine
	timeout time.Duration
	log     io.Writer
	accel   string
}

func defaultConfig() config {
	return config{
		machine: qemu.Machine{MemoryMB: 512, SMP: 2, NICs: 1},
		// TCG boots of the full b2c image pull containers over slirp: give
		// them minutes, not seconds. Tests that expect less say so.
		timeout: 5 * time.Minute,
		log:     io.Discard,
	}
}

// Option configures a VM.
type Option func(*config)

// Kernel sets the kernel image (a bzImage) QEMU boots. Required.
func Kernel(path string) Option { return func(c *config) { c.machine.Kernel = path } }

// Initramfs sets the initramfs passed to QEMU with -initrd.
func Initramfs(path string) Option { return func(c *config) { c.machine.Initramfs = path } }

// Append adds to the kernel command line. Each argument is added as is,
// separated by a space, so one argument may hold several options and
// quotes (b2c.run="-ti docker://... echo hi"). console=ttyS0 and panic=-1
// are added when missing.
func Append(args ...string) Option {
	return func(c *config) { c.machine.Append = append(c.machine.Append, args...) }
}

// Memory sets the guest RAM in MiB (default 512).
func Memory(mb int) Option { return func(c *config) { c.machine.MemoryMB = mb } }

// SMP sets the number of virtual CPUs (default 2).
func SMP(n int) Option { return func(c *config) { c.machine.SMP = n } }

// Disk attaches a raw image file as a virtio-blk disk. Disks appear in the
// guest in the order of the options: /dev/vda, /dev/vdb, ...
func Disk(path string) Option {
	return func(c *config) { c.machine.Disks = append(c.machine.Disks, path) }
}

// NICs sets the number of virtio-net NICs, each on its own QEMU user-mode
// network (guest 10.0.2.15, host reachable at 10.0.2.2, DHCP and DNS
// provided by QEMU). The default is one; 0 means no NIC at all.
func NICs(n int) Option { return func(c *config) { c.machine.NICs = n } }

// NoNIC boots the VM without any network interface.
func NoNIC() Option { return NICs(0) }

// QEMUArgs appends raw arguments to the QEMU command line.
func QEMUArgs(args ...string) Option {
	return func(c *config) { c.machine.Extra = append(c.machine.Extra, args...) }
}

// Firmware replaces QEMU's BIOS (SeaBIOS) with path, such as OVMF for
// UEFI: /usr/share/ovmf/OVMF.fd (Debian's ovmf).
func Firmware(path string) Option { return func(c *config) { c.machine.BIOS = path } }

// NetBoot makes the firmware boot from the first NIC, through its iPXE
// option ROM (Debian's ipxe-qemu), rather than QEMU loading a kernel:
// QEMU's DHCP hands out bootfile, a file name in tftpDir (served by QEMU's
// TFTP server; "" for none) or a URL such as http://10.0.2.2:PORT/x.
func NetBoot(tftpDir, bootfile string) Option {
	return func(c *config) { c.machine.NetBoot = &qemu.NetBoot{TFTP: tftpDir, Bootfile: bootfile} }
}

// DiskBoot makes the firmware boot from the first disk rather than QEMU
// loading a kernel.
func DiskBoot() Option { return func(c *config) { c.machine.DiskBoot = true } }

// Timeout bounds the whole life of the VM (default 5 minutes): when it
// expires QEMU is killed and pending Expect calls fail.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// Log streams the QEMU command line, every console line (with the time
// since QEMU started) and QEMU's own stderr to w. See TestLog.
func Log(w io.Writer) Option { return func(c *config) { c.log = w } }

// Accel forces the QEMU accelerator ("kvm", "tcg", "tcg,thread=multi")
// instead of probing whether KVM works.
func Accel(accel string) Option { return func(c *config) { c.accel = accel } }

// Arch sets the guest's architecture, by GOARCH name: "amd64" (the
// default) or "arm64", which boots QEMU's virt machine in
// qemu-system-aarch64, always under TCG.
func Arch(name string) Option { return func(c *config) { c.machine.Arch = name } }

// QEMU sets the QEMU binary (default: the architecture's, such as
// qemu-system-x86_64, from $PATH).
func QEMU(path string) Option { return func(c *config) { c.qemu = path } }
