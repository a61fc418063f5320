package vm

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// config is what the options set; Start turns it into a QEMU command line.
type config struct {
	qemu      string
	kernel    string
	initramfs string
	appends   []string
	memoryMB  int
	smp       int
	disks     []string
	nics      int
	extra     []string
	timeout   time.Duration
	log       io.Writer
	accel     string
	bios      string
	netboot   *netboot // boot from the first NIC instead of -kernel
	diskBoot  bool     // boot from the first disk instead of -kernel
}

// netboot is what QEMU's DHCP and TFTP serve the first NIC's boot ROM.
type netboot struct{ tftp, bootfile string }

// firmwareBoots tells that the firmware loads the boot loader: -kernel,
// -initrd and -append are not passed (the kernel, if set, only serves to
// probe KVM).
func (c *config) firmwareBoots() bool { return c.netboot != nil || c.diskBoot }

func defaultConfig() config {
	return config{
		qemu:     "qemu-system-x86_64",
		memoryMB: 512,
		smp:      2,
		nics:     1,
		// TCG boots of the full b2c image pull containers over slirp: give
		// them minutes, not seconds. Tests that expect less say so.
		timeout: 5 * time.Minute,
		log:     io.Discard,
	}
}

// Option configures a VM.
type Option func(*config)

// Kernel sets the kernel image (a bzImage) QEMU boots. Required.
func Kernel(path string) Option { return func(c *config) { c.kernel = path } }

// Initramfs sets the initramfs passed to QEMU with -initrd.
func Initramfs(path string) Option { return func(c *config) { c.initramfs = path } }

// Append adds to the kernel command line. Each argument is added as is,
// separated by a space, so one argument may hold several options and
// quotes (b2c.run="-ti docker://... echo hi"). console=ttyS0 and panic=-1
// are added when missing.
func Append(args ...string) Option {
	return func(c *config) { c.appends = append(c.appends, args...) }
}

// Memory sets the guest RAM in MiB (default 512).
func Memory(mb int) Option { return func(c *config) { c.memoryMB = mb } }

// SMP sets the number of virtual CPUs (default 2).
func SMP(n int) Option { return func(c *config) { c.smp = n } }

// Disk attaches a raw image file as a virtio-blk disk. Disks appear in the
// guest in the order of the options: /dev/vda, /dev/vdb, ...
func Disk(path string) Option { return func(c *config) { c.disks = append(c.disks, path) } }

// NICs sets the number of virtio-net NICs, each on its own QEMU user-mode
// network (guest 10.0.2.15, host reachable at 10.0.2.2, DHCP and DNS
// provided by QEMU). The default is one; 0 means no NIC at all.
func NICs(n int) Option { return func(c *config) { c.nics = n } }

// NoNIC boots the VM without any network interface.
func NoNIC() Option { return NICs(0) }

// QEMUArgs appends raw arguments to the QEMU command line.
func QEMUArgs(args ...string) Option {
	return func(c *config) { c.extra = append(c.extra, args...) }
}

// Firmware replaces QEMU's BIOS (SeaBIOS) with path, such as OVMF for
// UEFI: /usr/share/ovmf/OVMF.fd (Debian's ovmf).
func Firmware(path string) Option { return func(c *config) { c.bios = path } }

// NetBoot makes the firmware boot from the first NIC, through its iPXE
// option ROM (Debian's ipxe-qemu), rather than QEMU loading a kernel:
// QEMU's DHCP hands out bootfile, a file name in tftpDir (served by QEMU's
// TFTP server; "" for none) or a URL such as http://10.0.2.2:PORT/x.
func NetBoot(tftpDir, bootfile string) Option {
	return func(c *config) { c.netboot = &netboot{tftp: tftpDir, bootfile: bootfile} }
}

// DiskBoot makes the firmware boot from the first disk rather than QEMU
// loading a kernel.
func DiskBoot() Option { return func(c *config) { c.diskBoot = true } }

// Timeout bounds the whole life of the VM (default 5 minutes): when it
// expires QEMU is killed and pending Expect calls fail.
func Timeout(d time.Duration) Option { return func(c *config) { c.timeout = d } }

// Log streams the QEMU command line, every console line (with the time
// since QEMU started) and QEMU's own stderr to w. See TestLog.
func Log(w io.Writer) Option { return func(c *config) { c.log = w } }

// Accel forces the QEMU accelerator ("kvm", "tcg", "tcg,thread=multi")
// instead of probing whether KVM works.
func Accel(accel string) Option { return func(c *config) { c.accel = accel } }

// QEMU sets the QEMU binary (default qemu-system-x86_64 from $PATH).
func QEMU(path string) Option { return func(c *config) { c.qemu = path } }

// args returns QEMU's arguments (without the binary) for accel.
func (c *config) args(accel string) []string {
	a := []string{
		"-machine", "q35",
		"-accel", accel,
		"-cpu", "max",
		"-smp", fmt.Sprint(c.smp),
		"-m", fmt.Sprint(c.memoryMB),
		// No default devices, no display, no monitor: the only character
		// device is the serial port, on QEMU's stdout.
		"-nodefaults",
		"-nographic",
		"-serial", "stdio",
		// A guest reboot (panic=-1 included) ends QEMU instead of looping.
		"-no-reboot",
	}
	if c.bios != "" {
		a = append(a, "-bios", c.bios)
	}
	if !c.firmwareBoots() {
		a = append(a, "-kernel", c.kernel)
		if c.initramfs != "" {
			a = append(a, "-initrd", c.initramfs)
		}
		a = append(a, "-append", kernelAppend(c.appends))
	}
	for i, d := range c.disks {
		dev := fmt.Sprintf("virtio-blk-pci,drive=d%d", i)
		if c.diskBoot && i == 0 {
			dev += ",bootindex=0"
		}
		a = append(a,
			"-drive", fmt.Sprintf("file=%s,format=raw,if=none,id=d%d", escapeOpt(d), i),
			"-device", dev)
	}
	for i := 0; i < c.nics; i++ {
		netdev, rom := fmt.Sprintf("user,id=n%d", i), ",romfile="
		if i == 0 && c.netboot != nil {
			// QEMU's default ROM for the NIC: iPXE.
			rom = ",bootindex=0"
			if c.netboot.tftp != "" {
				netdev += ",tftp=" + escapeOpt(c.netboot.tftp)
			}
			netdev += ",bootfile=" + escapeOpt(c.netboot.bootfile)
		}
		// Otherwise romfile= skips the iPXE option ROM: we boot with
		// -kernel, and the ROM is one more file QEMU would need.
		a = append(a,
			"-netdev", netdev,
			"-device", fmt.Sprintf("virtio-net-pci,netdev=n%d%s", i, rom))
	}
	return append(a, c.extra...)
}

// escapeOpt escapes commas in a QEMU option value, which QEMU would
// otherwise read as the start of the next option.
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// kernelAppend joins the command line pieces and adds console=ttyS0 (the
// harness reads only the serial port) and panic=-1 (a panic ends the run
// at once, with -no-reboot) when they are missing.
func kernelAppend(pieces []string) string {
	user := strings.TrimSpace(strings.Join(pieces, " "))
	var hasConsole, hasPanic bool
	for _, f := range kernelFields(user) {
		switch {
		case f == "console=ttyS0" || strings.HasPrefix(f, "console=ttyS0,"):
			hasConsole = true
		case strings.HasPrefix(f, "panic="):
			hasPanic = true
		}
	}
	var add []string
	if !hasConsole {
		add = append(add, "console=ttyS0")
	}
	if !hasPanic {
		add = append(add, "panic=-1")
	}
	if user != "" {
		add = append(add, user)
	}
	return strings.Join(add, " ")
}

// kernelFields splits a kernel command line like the kernel does: on
// spaces outside double quotes, so b2c.run="... console=tty0" is one field.
func kernelFields(s string) []string {
	var (
		fields []string
		cur    strings.Builder
		quoted bool
	)
	for _, r := range s {
		switch {
		case r == '"':
			quoted = !quoted
			cur.WriteRune(r)
		case r == ' ' && !quoted:
			if cur.Len() > 0 {
				fields = append(fields, cur.String())
				cur.Reset()
			}
		default:
			cur.WriteRune(r)
		}
	}
	if cur.Len() > 0 {
		fields = append(fields, cur.String())
	}
	return fields
}

// shellQuote renders argv so that it can be pasted into a shell.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = quoteArg(a)
	}
	return strings.Join(q, " ")
}

func quoteArg(a string) string {
	if a == "" {
		return "''"
	}
	safe := true
	for _, r := range a {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=,:+@%", r)) {
			safe = false
			break
		}
	}
	if safe {
		return a
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}
