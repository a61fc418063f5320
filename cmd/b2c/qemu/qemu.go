// Package qemu builds the QEMU command line that boots a b2c kernel and
// initramfs on x86_64 or arm64, and tells whether KVM really works on this
// host. The
// host CLI (`b2c run`) and the end-to-end harness (ci/vm) share it, so
// that what the tests boot is what users boot.
package qemu

import (
	"fmt"
	"strings"
)

// Machine describes one VM. MemoryMB and SMP have defaults; the other
// fields add nothing when empty.
type Machine struct {
	Arch      string   // the guest's GOARCH (see Arches); "" is amd64
	Kernel    string   // bzImage or arm64's Image; required
	Initramfs string   // passed with -initrd when set
	Append    []string // kernel command line pieces, joined by spaces
	MemoryMB  int      // default 512
	SMP       int      // default 2
	Disks     []string // raw images, virtio-blk: /dev/vda, /dev/vdb, ... in order
	NICs      int      // virtio-net NICs, each on its own user-mode network (guest 10.0.2.15, host 10.0.2.2)
	Shares    []Share  // host directories exported over virtio-9p
	Ports     []Port   // virtio-serial ports, each on a host unix socket
	Extra     []string // raw QEMU arguments, appended last

	BIOS     string   // firmware instead of SeaBIOS, such as OVMF for UEFI
	NetBoot  *NetBoot // boot from the first NIC's iPXE ROM instead of -kernel
	DiskBoot bool     // boot from the first disk instead of -kernel
}

// NetBoot is what QEMU's DHCP and TFTP serve the first NIC's boot ROM
// (iPXE, Debian's ipxe-qemu): Bootfile is a file name in TFTP (served by
// QEMU's TFTP server; "" for none) or a URL such as http://10.0.2.2:PORT/x.
type NetBoot struct{ TFTP, Bootfile string }

// FirmwareBoots tells that the firmware loads the boot loader: -kernel,
// -initrd and -append are not passed (the kernel, if set, only serves to
// probe KVM).
func (m Machine) FirmwareBoots() bool { return m.NetBoot != nil || m.DiskBoot }

// Share exports a host directory to the guest over virtio-9p, where it
// mounts with `mount -t 9p -o trans=virtio,version=9p2000.L TAG DIR`.
type Share struct {
	Tag string
	Dir string
}

// Port is a virtio-serial port that the guest finds by Name (in
// /sys/class/virtio-ports/*/name) and that QEMU connects, at its start,
// to the unix socket Socket, on which the host listens already.
type Port struct{ Name, Socket string }

// Args returns QEMU's arguments (without the binary) for accel. m.Arch
// must be one of Arches.
func (m Machine) Args(accel string) []string {
	arch, err := LookupArch(m.Arch)
	if err != nil {
		// The callers look the architecture up first; QEMU would
		// reject the machine.
		arch = Arch{Machine: "unknown-arch-" + m.Arch}
	}
	mem, smp := m.MemoryMB, m.SMP
	if mem == 0 {
		mem = 512
	}
	if smp == 0 {
		smp = 2
	}
	a := []string{
		"-machine", arch.Machine,
		"-accel", accel,
		"-cpu", "max",
		"-smp", fmt.Sprint(smp),
		"-m", fmt.Sprint(mem),
		// No default devices, no display, no monitor: the only character
		// device is the serial port, on QEMU's stdout.
		"-nodefaults",
		"-nographic",
		"-serial", "stdio",
		// A guest reboot (panic=-1 included) ends QEMU instead of looping.
		"-no-reboot",
	}
	if m.BIOS != "" {
		a = append(a, "-bios", m.BIOS)
	}
	if !m.FirmwareBoots() {
		a = append(a, "-kernel", m.Kernel)
		if m.Initramfs != "" {
			a = append(a, "-initrd", m.Initramfs)
		}
		a = append(a, "-append", KernelAppend(arch, m.Append))
	}
	for i, d := range m.Disks {
		dev := fmt.Sprintf("virtio-blk-pci,drive=d%d", i)
		if m.DiskBoot && i == 0 {
			dev += ",bootindex=0"
		}
		a = append(a,
			"-drive", fmt.Sprintf("file=%s,format=raw,if=none,id=d%d", escapeOpt(d), i),
			"-device", dev)
	}
	for i := range m.NICs {
		netdev, rom := fmt.Sprintf("user,id=n%d", i), ",romfile="
		if i == 0 && m.NetBoot != nil {
			// QEMU's default ROM for the NIC: iPXE, on x86. On arm64
			// the firmware (U-Boot) has its own network stack.
			rom = ",bootindex=0"
			if arch.Name != "amd64" {
				rom = ",romfile="
			}
			if m.NetBoot.TFTP != "" {
				netdev += ",tftp=" + escapeOpt(m.NetBoot.TFTP)
			}
			if m.NetBoot.Bootfile != "" {
				netdev += ",bootfile=" + escapeOpt(m.NetBoot.Bootfile)
			}
		}
		// Otherwise romfile= skips the iPXE option ROM: we boot with
		// -kernel, and the ROM is one more file QEMU would need.
		a = append(a,
			"-netdev", netdev,
			"-device", fmt.Sprintf("virtio-net-pci,netdev=n%d%s", i, rom))
	}
	for i, s := range m.Shares {
		// security_model=none: files the guest's root writes are created
		// as the user running QEMU, with the modes the guest asked for, so
		// they come back as ordinary files of that user.
		a = append(a,
			"-fsdev", fmt.Sprintf("local,id=fs%d,path=%s,security_model=none", i, escapeOpt(s.Dir)),
			"-device", fmt.Sprintf("virtio-9p-pci,fsdev=fs%d,mount_tag=%s", i, escapeOpt(s.Tag)))
	}
	if len(m.Ports) > 0 {
		a = append(a, "-device", "virtio-serial-pci,id=vser0")
	}
	for i, p := range m.Ports {
		a = append(a,
			"-chardev", fmt.Sprintf("socket,id=port%d,path=%s", i, escapeOpt(p.Socket)),
			"-device", fmt.Sprintf("virtserialport,bus=vser0.0,chardev=port%d,name=%s", i, escapeOpt(p.Name)))
	}
	return append(a, m.Extra...)
}

// escapeOpt escapes commas in a QEMU option value, which QEMU would
// otherwise read as the start of the next option.
func escapeOpt(s string) string { return strings.ReplaceAll(s, ",", ",,") }

// KernelAppend joins the command line pieces and adds console= with
// arch's serial port (the console is read from there), panic=-1 (a panic
// ends the run at once, with -no-reboot) and no_timer_check when they are
// missing.
// no_timer_check: on a loaded host, a TCG guest's timer interrupt can miss
// the kernel's boot-time check, which then panics ("IO-APIC + timer
// doesn't work"); seen here while other VMs ran.
func KernelAppend(arch Arch, pieces []string) string {
	user := strings.TrimSpace(strings.Join(pieces, " "))
	console := "console=" + arch.Console
	var hasConsole, hasPanic, hasTimer bool
	for _, f := range KernelFields(user) {
		switch {
		case f == console || strings.HasPrefix(f, console+","):
			hasConsole = true
		case strings.HasPrefix(f, "panic="):
			hasPanic = true
		case f == "no_timer_check":
			hasTimer = true
		}
	}
	var add []string
	if !hasConsole {
		add = append(add, console)
	}
	if !hasPanic {
		add = append(add, "panic=-1")
	}
	if !hasTimer {
		add = append(add, "no_timer_check")
	}
	if user != "" {
		add = append(add, user)
	}
	return strings.Join(add, " ")
}

// KernelFields splits a kernel command line like the kernel does: on
// spaces outside double quotes, so b2c.run="... console=tty0" is one field.
// Unlike cmdline.Tokens it keeps the quotes, to give fields back as written.
func KernelFields(s string) []string {
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

// ShellQuote renders argv so that it can be pasted into a shell, to log
// how to reproduce a run.
func ShellQuote(argv []string) string {
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
