package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/b2c-dev/b2c/cmd/b2c/bootcfg"
	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/init/cmdline"
)

// configName is where a format's file goes under -o DIR.
func configName(format string) (string, bool) {
	switch format {
	case "syslinux":
		return "pxelinux.cfg/default", true
	case "extlinux":
		return "extlinux/extlinux.conf", true
	case "ipxe":
		return "boot.ipxe", true
	case "grub":
		return "grub.cfg", true
	case "systemd-boot":
		return "loader/entries/b2c.conf", true
	}
	return "", false
}

const bootConfigUsage = `usage: b2c boot-config FORMAT [-arch A] [-kernel P] [-initrd P] [-fdtdir P] [-mac MAC] [-o DIR] [CMDLINE | -f FILE | -]

Writes a boot loader configuration that boots b2c with the command line.
FORMAT is one of %s.
The command line must lint without errors (b2c lint; its warnings go to
stderr).

  -arch A     the kernel's architecture: amd64 (default) or arm64. On
              arm64, U-Boot reads the syslinux format (pxe get, pxe boot)
              and extlinux (extlinux/extlinux.conf, from a disk), which
              SYSLINUX reads on amd64: each gets the command line its way
  -kernel P   the kernel, as the boot loader names it (TFTP path, URL, ESP
              path); default bzImage, Image on arm64 (extlinux: /bzImage,
              /Image: from the root of the partition)
  -initrd P   the initramfs, as the boot loader names it; default
              initramfs.linux_ARCH.cpio.zst (extlinux: with a leading /)
  -fdtdir P   syslinux and extlinux on arm64: U-Boot loads the board's
              device tree from P/$fdtfile (such as a release's dtbs/)
              instead of passing its own to the kernel
  -mac MAC    syslinux: name the file for this NIC (pxelinux.cfg/01-...)
              instead of pxelinux.cfg/default
  -o DIR      write the file under DIR at its conventional name, and print
              its path; without it, the configuration goes to stdout
  -f FILE     read the command line from FILE (or give it as arguments, or
              on stdin with - or nothing)

Exit status: 0 written, 1 the command line has errors, 2 usage.
`

// bootConfig writes a boot loader configuration for a command line:
//
//	b2c boot-config FORMAT [-arch A] [-kernel P] [-initrd P] [-fdtdir P] [-mac MAC] [-o DIR] [CMDLINE | -f FILE | -]
//
// The command line must lint without errors (warnings go to stderr). The
// configuration goes to stdout, or, with -o, to its conventional name
// under DIR, whose path is printed.
func bootConfig(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if wantsHelp(args) {
		fmt.Fprintf(stdout, bootConfigUsage, strings.Join(bootcfg.Formats(), ", "))
		return nil
	}
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return errUsage{"boot-config needs a format: " + strings.Join(bootcfg.Formats(), ", ")}
	}
	format := args[0]
	fs := flag.NewFlagSet("boot-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	b := bootcfg.Boot{}
	archName := fs.String("arch", "amd64", "the kernel's architecture: amd64 or arm64")
	fs.StringVar(&b.Kernel, "kernel", "", "the kernel, as the boot loader names it (TFTP path, URL, ESP path)")
	fs.StringVar(&b.Initrd, "initrd", "", "the initramfs, as the boot loader names it")
	fs.StringVar(&b.FDTDir, "fdtdir", "", "syslinux and extlinux on arm64: U-Boot's directory of device trees")
	mac := fs.String("mac", "", "syslinux: name the file for this NIC (pxelinux.cfg/01-...) instead of default")
	out := fs.String("o", "", "write the file under this directory, at its conventional name")
	file := fs.String("f", "", "read the command line from this file")
	if err := fs.Parse(args[1:]); err != nil {
		return errUsage{err.Error()}
	}
	name, ok := configName(format)
	if !ok {
		return errUsage{fmt.Sprintf("unknown format %q (want one of %s)", format, strings.Join(bootcfg.Formats(), ", "))}
	}
	arch, err := qemu.LookupArch(*archName)
	if err != nil {
		return errUsage{"-arch: " + err.Error()}
	}
	b.Arch = arch.Name
	if b.FDTDir != "" && (format != "syslinux" && format != "extlinux" || !b.UBoot()) {
		return errUsage{"-fdtdir is for U-Boot: the syslinux and extlinux formats with -arch arm64"}
	}
	if b.Kernel == "" {
		b.Kernel = bootcfg.ReleasePath(format, arch.Kernel)
	}
	if b.Initrd == "" {
		b.Initrd = bootcfg.ReleasePath(format, arch.Initramfs())
	}
	text, err := cmdlineArg(*file, fs.Args(), stdin)
	if err != nil {
		return err
	}
	if err := lintQuiet(text, stderr); err != nil {
		return err
	}
	b.Cmdline = text
	cfg, err := bootcfg.Write(format, b)
	if err != nil {
		return err
	}
	if *mac != "" {
		if format != "syslinux" {
			return errUsage{"-mac is for the syslinux format"}
		}
		if name, err = bootcfg.PXELinuxMACFile(*mac); err != nil {
			return err
		}
	}
	if *out == "" {
		_, err := io.WriteString(stdout, cfg)
		return err
	}
	p := filepath.Join(*out, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return fmt.Errorf("boot-config: %w", err)
	}
	if err := os.WriteFile(p, []byte(cfg), 0o644); err != nil {
		return fmt.Errorf("boot-config: %w", err)
	}
	fmt.Fprintln(stdout, p)
	return nil
}

// cmdlineArg takes the command line from -f FILE, the arguments, or stdin
// ("-" or no arguments).
func cmdlineArg(file string, args []string, stdin io.Reader) (string, error) {
	if file != "" {
		if len(args) > 0 {
			return "", errUsage{"give the command line as arguments or with -f, not both"}
		}
		args = []string{"-f", file}
	}
	text, err := readCmdline(args, stdin)
	return strings.TrimSpace(text), err
}

// lintQuiet prints the command line's diagnostics to w and fails (exit 1)
// when one is an error: a configuration that boots into "invalid option"
// on a hundred machines helps no one.
func lintQuiet(text string, w io.Writer) error {
	failed := false
	for _, d := range diagnostics(cmdline.Parse(text)) {
		fmt.Fprintln(w, d)
		failed = failed || d.Error
	}
	if failed {
		return exitError(1)
	}
	return nil
}
