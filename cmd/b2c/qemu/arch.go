package qemu

import (
	"fmt"
	"runtime"
)

// Arch is a guest architecture: how QEMU emulates it and how b2c's files
// for it are named.
type Arch struct {
	Name    string // GOARCH: amd64, arm64
	Binary  string // the QEMU system emulator
	Package string // Debian's package of Binary
	Machine string // QEMU's -machine
	Console string // the serial console's device, for console=
	Kernel  string // the kernel's file name in a b2c release
	// EFI is Debian's UEFI firmware for -bios: OVMF or AAVMF.
	EFI string
	// UBoot is Debian's U-Boot for the machine, as -bios ("" when none).
	UBoot string
}

// Initramfs is the initramfs's file name in a b2c release.
func (a Arch) Initramfs() string { return "initramfs.linux_" + a.Name + ".cpio.zst" }

// Native tells that the guest runs the host's architecture, so KVM may
// serve it; a foreign architecture always runs on TCG.
func (a Arch) Native() bool { return a.Name == runtime.GOARCH }

// Arches are the architectures b2c builds and boots, amd64 first (the
// default).
func Arches() []Arch {
	return []Arch{
		{
			Name: "amd64", Binary: "qemu-system-x86_64", Package: "qemu-system-x86",
			Machine: "q35", Console: "ttyS0", Kernel: "bzImage",
			EFI: "/usr/share/ovmf/OVMF.fd",
		},
		{
			// virt: PCI (virtio, NICs), a PL011 UART, PSCI to power
			// off, the platform QEMU's ARM firmwares are built for.
			Name: "arm64", Binary: "qemu-system-aarch64", Package: "qemu-system-arm",
			Machine: "virt", Console: "ttyAMA0", Kernel: "Image",
			EFI:   "/usr/share/qemu-efi-aarch64/QEMU_EFI.fd",
			UBoot: "/usr/lib/u-boot/qemu_arm64/u-boot.bin",
		},
	}
}

// LookupArch returns the Arch named name; "" is amd64.
func LookupArch(name string) (Arch, error) {
	as := Arches()
	if name == "" {
		return as[0], nil
	}
	names := ""
	for _, a := range as {
		if a.Name == name {
			return a, nil
		}
		names += " " + a.Name
	}
	return Arch{}, fmt.Errorf("architecture %q: want one of%s", name, names)
}
