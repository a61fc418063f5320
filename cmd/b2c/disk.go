package main

import (
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/b2c-dev/b2c/cmd/b2c/diskimg"
	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/init/cmdline"
)

const diskUsage = `usage: b2c disk [-arch A] [-kernel P] [-initrd P] [-cache-size SIZE] [-esp-size SIZE] [-loader EFI] IMAGE [CMDLINE | -f FILE | -]
       b2c disk --update IMAGE [-kernel P] [-initrd P] [CMDLINE | -f FILE | -]

Makes a UEFI-bootable GPT disk image (systemd-boot, the kernel, the
initramfs and the command line on an EFI system partition, and an empty
B2C_CACHE partition with -cache-size), or updates one: --update replaces
only what it is given, and keeps the image's command line without one.
The command line must lint without errors (b2c lint). With -arch arm64,
arm64 UEFI firmware (such as QEMU's AAVMF) boots it: the loader goes to
\EFI\BOOT\BOOTAA64.EFI instead of \EFI\BOOT\BOOTX64.EFI.

`

// disk makes or updates the disk image of the flash-and-reboot path:
//
//	b2c disk [-arch A] [-kernel P] [-initrd P] [-cache-size SIZE] [-esp-size SIZE] [-loader EFI] IMAGE [CMDLINE | -f FILE | -]
//	b2c disk --update IMAGE [-kernel P] [-initrd P] [CMDLINE | -f FILE | -]
//
// An update replaces only what it is given; with no command line it keeps
// the image's own.
func disk(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("disk", flag.ContinueOnError)
	fs.SetOutput(stderr)
	update := fs.String("update", "", "update this image instead of making one")
	archName := fs.String("arch", "amd64", "the machine's architecture, amd64 or arm64: the defaults of -kernel, -initrd and -loader, and the loader's path")
	kernel := fs.String("kernel", "", "the kernel, with an EFI stub; default bzImage (Image with -arch arm64) when making an image")
	initrd := fs.String("initrd", "", "the initramfs; default initramfs.linux_ARCH.cpio.zst when making an image")
	cacheSize := fs.String("cache-size", "", "size of an empty B2C_CACHE partition (such as 4G); none by default")
	espSize := fs.String("esp-size", "", "size of the EFI system partition; by default twice the boot files and 32M")
	loader := fs.String("loader", "", "systemd-boot's EFI binary; default /usr/lib/systemd/boot/efi/systemd-bootx64.efi (systemd-bootaa64.efi with -arch arm64)")
	file := fs.String("f", "", "read the command line from this file")
	if wantsHelp(args) {
		diskHelp(fs, stdout)
		return nil
	}
	if err := fs.Parse(args); err != nil {
		return errUsage{err.Error()}
	}
	rest := fs.Args()
	arch, err := qemu.LookupArch(*archName)
	if err != nil {
		return errUsage{"-arch: " + err.Error()}
	}

	if *update != "" {
		var c diskimg.Changes
		c.Kernel, c.Initrd = *kernel, *initrd
		if *file != "" || len(rest) > 0 {
			text, err := cmdlineArg(*file, rest, stdin)
			if err != nil {
				return err
			}
			if err := lintQuiet(text, stderr); err != nil {
				return err
			}
			c.Cmdline = &text
		}
		if err := diskimg.Update(*update, c); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "updated %s\n", *update)
		return nil
	}

	if len(rest) == 0 {
		return errUsage{"disk needs an image file name"}
	}
	o := diskimg.Options{Kernel: *kernel, Initrd: *initrd, Arch: arch.Name, Loader: *loader}
	if o.Kernel == "" {
		o.Kernel = arch.Kernel
	}
	if o.Initrd == "" {
		o.Initrd = arch.Initramfs()
	}
	for _, s := range []struct {
		flag, v string
		n       *int64
	}{{"-cache-size", *cacheSize, &o.CacheSize}, {"-esp-size", *espSize, &o.ESPSize}} {
		if s.v == "" {
			continue
		}
		n, err := cmdline.ParseSize(s.v)
		if err != nil {
			return errUsage{fmt.Sprintf("%s: %v", s.flag, err)}
		}
		*s.n = n
	}
	text, err := cmdlineArg(*file, rest[1:], stdin)
	if err != nil {
		return err
	}
	if strings.TrimSpace(text) == "" {
		return errUsage{"disk needs a command line (arguments, -f FILE, or - for stdin)"}
	}
	if err := lintQuiet(text, stderr); err != nil {
		return err
	}
	o.Cmdline = text
	if err := diskimg.Create(rest[0], o); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s\n", rest[0])
	return nil
}

// diskHelp prints b2c disk's usage, with its flags.
func diskHelp(fs *flag.FlagSet, w io.Writer) {
	fmt.Fprint(w, diskUsage)
	fs.SetOutput(w)
	fs.PrintDefaults()
	fmt.Fprint(w, "\nExit status: 0 written, 1 the command line has errors or the image failed, 2 usage.\n")
}
