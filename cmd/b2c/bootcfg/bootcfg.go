// Package bootcfg writes the boot loader configurations that boot b2c's
// kernel and initramfs with a kernel command line: a pxelinux.cfg file
// (read by SYSLINUX on x86, by U-Boot's pxe command on ARM boards), the
// same as extlinux.conf (U-Boot's sysboot, from a disk), an iPXE script,
// a GRUB menu entry and a systemd-boot loader entry.
//
// Each boot loader parses its configuration before it hands the command
// line to the kernel, and each has its own rules for white space, quotes
// and special characters. A writer encodes the command line so that what
// the kernel gets splits, by the rules of cmdline.Tokens (the kernel's and
// the agent's), into the same tokens as the command line it was given. What
// a boot loader cannot carry is an error naming the character, never a
// silently different command line.
package bootcfg

import (
	"errors"
	"fmt"
	"net"
	"sort"
	"strings"
)

// Boot is what a configuration boots.
type Boot struct {
	// Kernel and Initrd name the files as the boot loader reads them: a
	// path on the TFTP server or the disk, or a URL for iPXE.
	Kernel, Initrd string
	// Cmdline is the kernel command line, as /proc/cmdline should read
	// it, b2c.run="..." quotes included.
	Cmdline string
	// Arch is the kernel's architecture, a GOARCH; "" is amd64. It tells
	// who reads the syslinux and extlinux formats: SYSLINUX, which boots
	// x86 only, on amd64; U-Boot on any other.
	Arch string
	// FDTDir is U-Boot's FDTDIR (syslinux and extlinux formats, not on
	// amd64): the directory of the device trees, from which U-Boot loads
	// the board's ($fdtfile, such as rockchip/rk3399-rock-pi-4b.dtb) for
	// the kernel instead of its own. "" for none.
	FDTDir string
}

// UBoot tells that U-Boot, not SYSLINUX, reads b's syslinux or extlinux
// file.
func (b Boot) UBoot() bool { return b.Arch != "" && b.Arch != "amd64" }

// ReleasePath names a file of a b2c release (its kernel, its initramfs)
// as format's boot loader finds it when the release is the root of its
// TFTP or HTTP server, or of its partition: as it is, but for extlinux,
// whose relative paths sysboot reads from the file's own directory,
// extlinux/.
func ReleasePath(format, name string) string {
	if format == "extlinux" {
		return "/" + name
	}
	return name
}

// Formats are the names Write accepts, sorted.
func Formats() []string {
	f := []string{"syslinux", "extlinux", "ipxe", "grub", "systemd-boot"}
	sort.Strings(f)
	return f
}

// Write renders b in format (one of Formats).
func Write(format string, b Boot) (string, error) {
	if b.FDTDir != "" && format != "syslinux" && format != "extlinux" {
		return "", fmt.Errorf("%s: no device tree directory (FDTDIR is U-Boot's, for syslinux and extlinux)", format)
	}
	switch format {
	case "syslinux", "extlinux":
		return Syslinux(b)
	case "ipxe":
		return IPXE(b)
	case "grub":
		return Grub(b)
	case "systemd-boot":
		return LoaderEntry(b)
	}
	return "", fmt.Errorf("unknown boot config format %q (want one of %s)", format, strings.Join(Formats(), ", "))
}

// check rejects what no configuration file can hold and returns the
// command line without its surrounding white space, which no boot loader
// keeps and the kernel ignores.
func check(b Boot) (string, error) {
	if b.Kernel == "" || b.Initrd == "" {
		return "", errors.New("boot config: the kernel and the initramfs are required")
	}
	for _, s := range []string{b.Kernel, b.Initrd, b.FDTDir, b.Cmdline} {
		if i := strings.IndexAny(s, "\n\r\x00"); i >= 0 {
			return "", fmt.Errorf("boot config: %q holds a line break or a NUL at byte %d: configuration files are line based", s, i)
		}
	}
	if strings.Count(b.Cmdline, `"`)%2 != 0 {
		return "", fmt.Errorf("boot config: unbalanced double quote in %q", b.Cmdline)
	}
	for _, s := range []string{b.Kernel, b.Initrd, b.FDTDir} {
		if strings.ContainsAny(s, " \t") {
			return "", fmt.Errorf("boot config: the file name %q holds white space", s)
		}
	}
	return strings.TrimSpace(b.Cmdline), nil
}

// Syslinux returns a pxelinux.cfg file (pxelinux.cfg/default, or the
// per-MAC name of PXELinuxMACFile) that boots b at once, without a menu;
// it is also an extlinux.conf. On amd64 SYSLINUX reads it, elsewhere
// U-Boot (pxe get and pxe boot, sysboot; see ubootAppend).
//
// SYSLINUX takes the rest of the APPEND line as the command line, quotes
// and all, after skipping the white space that follows the keyword; it
// adds BOOT_IMAGE= and, with INITRD, initrd= to it. A lone "-" means no
// command line, so it is refused.
//
// U-Boot reads the same keywords (DEFAULT, LABEL, KERNEL, INITRD, APPEND,
// FDTDIR; PROMPT is ignored, and a config without MENU boots its default
// label at once). INITRD must come before APPEND: U-Boot takes an initrd=
// in the APPEND line as the initramfs of a label without one.
func Syslinux(b Boot) (string, error) {
	cmd, err := check(b)
	if err != nil {
		return "", err
	}
	switch {
	case b.UBoot():
		cmd = ubootAppend(cmd)
	case b.FDTDir != "":
		return "", errors.New("syslinux: SYSLINUX has no FDTDIR (a device tree directory is for U-Boot, not on amd64)")
	case cmd == "-":
		return "", errors.New(`syslinux: APPEND - means "no command line"`)
	}
	var s strings.Builder
	s.WriteString("# Generated by b2c boot-config.\n")
	s.WriteString("DEFAULT b2c\nPROMPT 0\nTIMEOUT 0\n\n")
	s.WriteString("LABEL b2c\n")
	fmt.Fprintf(&s, "\tKERNEL %s\n", b.Kernel)
	fmt.Fprintf(&s, "\tINITRD %s\n", b.Initrd)
	if b.FDTDir != "" {
		fmt.Fprintf(&s, "\tFDTDIR %s\n", b.FDTDir)
	}
	if cmd != "" {
		fmt.Fprintf(&s, "\tAPPEND %s\n", cmd)
	}
	return s.String(), nil
}

// ubootAppend encodes cmd as the value of an APPEND line that U-Boot
// (boot/pxe_utils.c, label_boot) turns back into cmd. U-Boot passes the
// value through cli_simple_process_macros before it sets bootargs: a
// backslash escapes the next character, '...' quotes a literal (the quotes
// are dropped) and $(NAME) and ${NAME} expand variables. So ', $ and \
// get a backslash, except after a backslash: the unescaping remembers the
// last character it read, escaped or not, and a character after a
// backslash is never special. A value that starts with # would be a
// comment to U-Boot's lexer: it gets a backslash too.
func ubootAppend(cmd string) string {
	var s strings.Builder
	prev := byte(0) // the last character U-Boot will have read
	for i := 0; i < len(cmd); i++ {
		c := cmd[i]
		switch {
		case prev == '\\':
		case c == '\\' || c == '\'' || c == '$' || c == '#' && i == 0:
			s.WriteByte('\\')
		}
		s.WriteByte(c)
		prev = c
	}
	return s.String()
}

// PXELinuxMACFile returns the name pxelinux looks for first for the NIC
// with that hardware address: pxelinux.cfg/01-aa-bb-cc-dd-ee-ff (01 is
// the ARP type of Ethernet), lower case.
func PXELinuxMACFile(mac string) (string, error) {
	hw, err := net.ParseMAC(mac)
	if err != nil {
		return "", fmt.Errorf("pxelinux file name: %w", err)
	}
	if len(hw) != 6 {
		return "", fmt.Errorf("pxelinux file name: %s is not an Ethernet address", mac)
	}
	return "pxelinux.cfg/01-" + strings.ReplaceAll(hw.String(), ":", "-"), nil
}

// LoaderEntry returns a systemd-boot loader entry (loader/entries/*.conf,
// Boot Loader Specification type 1) for b; Kernel and Initrd are paths on
// the EFI system partition.
//
// systemd-boot takes the rest of the options line, trimmed, as the command
// line, but when the value both begins and ends with a double quote it
// strips that pair: such a command line gets one more pair to lose.
func LoaderEntry(b Boot) (string, error) {
	cmd, err := check(b)
	if err != nil {
		return "", err
	}
	if len(cmd) >= 2 && cmd[0] == '"' && cmd[len(cmd)-1] == '"' {
		cmd = `"` + cmd + `"`
	}
	var s strings.Builder
	s.WriteString("# Generated by b2c boot-config.\n")
	s.WriteString("title b2c\n")
	fmt.Fprintf(&s, "linux %s\n", b.Kernel)
	fmt.Fprintf(&s, "initrd %s\n", b.Initrd)
	if cmd != "" {
		fmt.Fprintf(&s, "options %s\n", cmd)
	}
	return s.String(), nil
}
