package bootcfg

import (
	"encoding/hex"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/init/cmdline"
)

// The models below turn each configuration back into the kernel command
// line the way its boot loader does (from the loaders' sources: SYSLINUX
// com32/elflink/ldlinux/readconfig.c, systemd-boot src/boot/efi/boot.c
// line_get_key_value, iPXE src/core/exec.c and settings.c, GRUB
// grub-core/lib/cmdline.c, U-Boot boot/pxe_utils.c get_token and
// label_boot, common/cli_simple.c cli_simple_process_macros), so that the
// tests check what the kernel gets.

// syslinuxCmdline returns the APPEND value: the line after the keyword and
// its white space.
func syslinuxCmdline(t *testing.T, cfg string) string {
	t.Helper()
	for _, l := range strings.Split(cfg, "\n") {
		l = strings.TrimLeft(l, " \t")
		if strings.HasPrefix(strings.ToUpper(l), "APPEND ") {
			return strings.TrimRight(strings.TrimLeft(l[len("APPEND "):], " \t"), " \t")
		}
	}
	return ""
}

// ubootCmdline returns the bootargs U-Boot sets from a pxelinux.cfg or
// extlinux.conf: the APPEND keyword of the label (any case), its value
// after the blanks up to the end of the line, unless it starts with #, a
// comment, then unescaped and expanded as cli_simple_process_macros does.
// No variable is set: an expansion fails the test. It also checks that
// INITRD comes before APPEND, which would otherwise set the initramfs
// from an initrd= in the command line.
func ubootCmdline(t *testing.T, cfg string) string {
	t.Helper()
	initrd := false
	for _, l := range strings.Split(cfg, "\n") {
		l = strings.TrimLeft(l, " \t")
		key, value, _ := strings.Cut(l, " ")
		switch strings.ToLower(key) {
		case "initrd":
			initrd = true
		case "append":
			if !initrd {
				t.Fatalf("model: APPEND before INITRD in\n%s", cfg)
			}
			value = strings.TrimLeft(value, " \t")
			if value == "" || value[0] == '#' {
				t.Fatalf("model: U-Boot reads no string in %q", l)
			}
			return processMacros(t, value)
		}
	}
	return ""
}

// processMacros is U-Boot's cli_simple_process_macros with no variable
// set; an expansion fails the test.
func processMacros(t *testing.T, in string) string {
	t.Helper()
	var out strings.Builder
	var prev byte
	state := 0 // 0 waiting for $, 1 for ( or {, 2 for ) or }, 3 for '
	for i := 0; i < len(in); i++ {
		c := in[i]
		if state != 3 && c == '\\' && prev != '\\' {
			if i+1 == len(in) {
				break
			}
			prev = c
			i++
			c = in[i]
		}
		switch state {
		case 0:
			switch {
			case c == '\'' && prev != '\\':
				state = 3
			case c == '$' && prev != '\\':
				state = 1
			default:
				out.WriteByte(c)
			}
		case 1:
			if c == '(' || c == '{' {
				t.Fatalf("model: U-Boot expands a variable in %q", in)
			}
			state = 0
			out.WriteByte('$')
			out.WriteByte(c)
		case 3:
			if c == '\'' && prev != '\\' {
				state = 0
			} else {
				out.WriteByte(c)
			}
		}
		prev = c
	}
	return out.String()
}

// TestProcessMacros checks the model of U-Boot against what U-Boot's
// code does, read by hand.
func TestProcessMacros(t *testing.T) {
	for in, want := range map[string]string{
		`a 'b  c' d`: `a b  c d`,
		`a \'b\' $x`: `a 'b' $x`,
		`\\\\`:       `\\\`, // a \ just read, escaped or not, makes the next \ plain
		`\\'`:        `\'`,
		`a\`:         `a`,
		`'$(x)'`:     `$(x)`,
	} {
		if got := processMacros(t, in); got != want {
			t.Errorf("processMacros(%q) = %q, want %q", in, got, want)
		}
	}
}

// loaderCmdline joins the options lines of a loader entry, each trimmed
// and unquoted as systemd-boot does.
func loaderCmdline(t *testing.T, cfg string) string {
	t.Helper()
	var opts []string
	for _, l := range strings.Split(cfg, "\n") {
		l = strings.Trim(l, " \t")
		key, value, ok := strings.Cut(l, " ")
		if !ok || key != "options" {
			continue
		}
		value = strings.TrimLeft(value, " \t")
		if value[0] == '"' && l[len(l)-1] == '"' {
			value = value[1 : len(value)-1]
		}
		opts = append(opts, value)
	}
	return strings.Join(opts, " ")
}

// ipxeCmdline runs the set commands of a script and returns the kernel
// command's arguments after the image URL, as iPXE joins them.
func ipxeCmdline(t *testing.T, script string) string {
	t.Helper()
	settings := map[string]string{}
	for _, l := range strings.Split(script, "\n") {
		words := strings.Fields(l) // iPXE's isspace split
		for i, w := range words {
			if w[0] == '#' || w == "||" || w == "&&" || w == ";" {
				words = words[:i]
				break
			}
		}
		if len(words) == 0 {
			continue
		}
		for i := range words {
			words[i] = ipxeExpand(words[i], settings)
		}
		switch words[0] {
		case "set":
			name, typ, _ := strings.Cut(words[1], ":")
			if typ != "hex" {
				t.Fatalf("model: set of type %q", typ)
			}
			b, err := hex.DecodeString(strings.ReplaceAll(words[2], ":", ""))
			if err != nil {
				t.Fatal(err)
			}
			settings[name] = string(b)
		case "kernel":
			return strings.Join(words[2:], " ")
		}
	}
	t.Fatalf("no kernel command in\n%s", script)
	return ""
}

// ipxeExpand expands the innermost ${name[:type]} until none is left.
func ipxeExpand(w string, settings map[string]string) string {
	for {
		start, end := -1, -1
		for i := 0; i < len(w); i++ {
			if w[i] == '$' && i+1 < len(w) && w[i+1] == '{' {
				start = i
			}
			if start >= 0 && w[i] == '}' {
				end = i
				break
			}
		}
		if end < 0 {
			return w
		}
		name, _, _ := strings.Cut(w[start+2:end], ":")
		w = w[:start] + settings[name] + w[end+1:]
	}
}

// grubCmdline lexes the linux command of a grub.cfg (plain and
// single-quoted words only, which is all the writer emits) and builds the
// command line as grub_create_loader_cmdline does: with escapes (GRUB
// 2.04 to 2.06) or without (2.12).
func grubCmdline(t *testing.T, cfg string, escapes bool) string {
	t.Helper()
	for _, l := range strings.Split(cfg, "\n") {
		l = strings.TrimSpace(l)
		if !strings.HasPrefix(l, "linux ") {
			continue
		}
		var args []string
		var cur strings.Builder
		inWord, quoted := false, false
		for _, r := range l {
			switch {
			case r == '\'':
				quoted = !quoted
				inWord = true
			case !quoted && (r == ' ' || r == '\t'):
				if inWord {
					args = append(args, cur.String())
					cur.Reset()
					inWord = false
				}
			case !quoted && strings.ContainsRune(`"\$;|&<>(){}#`, r):
				t.Fatalf("model: unquoted GRUB metacharacter %q in %q", r, l)
			default:
				cur.WriteRune(r)
				inWord = true
			}
		}
		if inWord {
			args = append(args, cur.String())
		}
		if quoted {
			t.Fatalf("model: unterminated quote in %q", l)
		}
		var out []string
		for _, a := range args[2:] {
			if escapes {
				a = strings.NewReplacer(`\`, `\\`, `'`, `\'`, `"`, `\"`).Replace(a)
			}
			if strings.Contains(a, " ") {
				a = `"` + a + `"`
			}
			out = append(out, a)
		}
		return strings.Join(out, " ")
	}
	t.Fatalf("no linux command in\n%s", cfg)
	return ""
}

// kernelGets returns the command lines the kernel gets from cfg in format,
// written for arch.
func kernelGets(t *testing.T, format, arch, cfg string) []string {
	switch {
	case (format == "syslinux" || format == "extlinux") && arch == "arm64":
		return []string{ubootCmdline(t, cfg)}
	}
	switch format {
	case "syslinux", "extlinux":
		return []string{syslinuxCmdline(t, cfg)}
	case "systemd-boot":
		return []string{loaderCmdline(t, cfg)}
	case "ipxe":
		return []string{ipxeCmdline(t, cfg)}
	case "grub":
		return []string{grubCmdline(t, cfg, true), grubCmdline(t, cfg, false)}
	}
	t.Fatalf("no model for %s", format)
	return nil
}

// reader is a format as one architecture's boot loader reads it.
type reader struct{ format, arch string }

func (r reader) String() string { return r.format + "/" + r.arch }

// readers are the formats, and the U-Boot readers of syslinux and
// extlinux.
func readers() []reader {
	var rs []reader
	for _, f := range Formats() {
		rs = append(rs, reader{f, "amd64"})
		if f == "syslinux" || f == "extlinux" {
			rs = append(rs, reader{f, "arm64"})
		}
	}
	return rs
}

func TestQuotingSurvives(t *testing.T) {
	for _, tt := range []struct {
		name    string
		cmdline string
		errs    map[string]string // format: error substring
	}{
		{"plain", `console=ttyS0 b2c.run="-ti docker://alpine echo hi"`, nil},
		{"spaces and = in a value", `console=ttyS0 b2c.run="-e A=b c docker://registry:5000/x:latest env" panic=-1`, nil},
		{"inner single quotes", `b2c.run="-e 'A=b  c=d' docker://x sh -c 'echo <$A>'"`,
			map[string]string{"grub": `holds "'"`}},
		{"double and triple spaces in quotes", `b2c.run="echo a  b   c" b2c.x="  lead" b2c.y="trail  "`, nil},
		{"tab in quotes", "b2c.run=\"echo a\tb\" b2c.x=1\tb2c.y=2", nil},
		{"white space runs outside quotes", "  console=ttyS0 \t  b2c.run=\"x\"   ", nil},
		{"a word that looks like an iPXE comment", `b2c.run="docker://x echo #1 # two"`, nil},
		{"iPXE terminators", `b2c.run="docker://x sh -c a ; b || c && d" b2c.z=;`, nil},
		{"the whole line in quotes", `"b2c.run=docker://x echo hi"`, nil},
		{"dollar without brace", `b2c.run="docker://x sh -c echo $HOME$"`, nil},
		{"dollar brace", `b2c.run="docker://x echo ${HOME}"`, map[string]string{"ipxe": "cannot escape"}},
		{"backslash", `b2c.run="docker://x echo a\b"`, map[string]string{"grub": `holds "\\"`}},
		{"backslashes before quotes and dollars", `b2c.run="docker://x sh -c 'echo \\'\\$1\\\' \$(x) \${y} $$'" b2c.z=\\\`,
			map[string]string{"grub": `holds "'"`, "ipxe": "cannot escape"}},
		{"U-Boot variables", `b2c.run="docker://x sh -c 'echo $(id -u) $HOME'"`, map[string]string{"grub": `holds "'"`}},
		{"a comment to U-Boot", `#b2c.x=1 b2c.run="docker://x true"`, nil},
		{"trailing backslash", `b2c.x=a\`, map[string]string{"ipxe": "continue the script line", "grub": `holds "\\"`}},
		{"empty value", `b2c.x="" b2c.y=""`, nil},
		{"unbalanced quote", `b2c.run="echo`, map[string]string{"syslinux": "unbalanced", "extlinux": "unbalanced", "ipxe": "unbalanced", "grub": "unbalanced", "systemd-boot": "unbalanced"}},
		{"line break", "b2c.run=x\nDEFAULT evil", map[string]string{"syslinux": "line break", "extlinux": "line break", "ipxe": "line break", "grub": "line break", "systemd-boot": "line break"}},
		{"syslinux dash", `-`, map[string]string{"syslinux/amd64": "no command line", "extlinux/amd64": "no command line"}},
	} {
		for _, r := range readers() {
			t.Run(tt.name+"/"+r.String(), func(t *testing.T) {
				cfg, err := Write(r.format, Boot{Kernel: "b2c/bzImage", Initrd: "b2c/initramfs.cpio.zst", Cmdline: tt.cmdline, Arch: r.arch})
				wantErr, ok := tt.errs[r.format]
				if !ok {
					wantErr, ok = tt.errs[r.String()]
				}
				if ok {
					if err == nil || !strings.Contains(err.Error(), wantErr) {
						t.Fatalf("Write(%s, %q) = %v, want an error with %q\n%s", r, tt.cmdline, err, wantErr, cfg)
					}
					return
				}
				if err != nil {
					t.Fatalf("Write(%s, %q): %v", r, tt.cmdline, err)
				}
				want := cmdline.Tokens(tt.cmdline)
				for _, got := range kernelGets(t, r.format, r.arch, cfg) {
					toks := cmdline.Tokens(got)
					if r.format == "ipxe" {
						if len(toks) == 0 || toks[0] != "initrd=initramfs.cpio.zst" {
							t.Fatalf("iPXE command line %q does not start with initrd=", got)
						}
						toks = toks[1:]
					}
					if !reflect.DeepEqual(nonEmpty(toks), nonEmpty(want)) {
						t.Errorf("%s: the kernel gets %q: tokens %q, want %q\n%s", r, got, toks, want, cfg)
					}
				}
			})
		}
	}
}

// nonEmpty drops empty tokens, which the kernel and the agent ignore and
// GRUB drops.
func nonEmpty(toks []string) []string {
	var out []string
	for _, t := range toks {
		if t != "" {
			out = append(out, t)
		}
	}
	return out
}

// TestConfigs shows each whole configuration for one command line.
func TestConfigs(t *testing.T) {
	b := Boot{Kernel: "bzImage", Initrd: "initramfs.cpio.zst", Cmdline: `console=ttyS0 b2c.run="-e 'A=b  c' docker://x env"`}
	for _, tt := range []struct{ format, want string }{
		{"syslinux", "# Generated by b2c boot-config.\nDEFAULT b2c\nPROMPT 0\nTIMEOUT 0\n\nLABEL b2c\n\tKERNEL bzImage\n\tINITRD initramfs.cpio.zst\n\tAPPEND console=ttyS0 b2c.run=\"-e 'A=b  c' docker://x env\"\n"},
		{"systemd-boot", "# Generated by b2c boot-config.\ntitle b2c\nlinux bzImage\ninitrd initramfs.cpio.zst\noptions console=ttyS0 b2c.run=\"-e 'A=b  c' docker://x env\"\n"},
		{"ipxe", "#!ipxe\n# Generated by b2c boot-config.\nset b2c_sp:hex 20\nkernel bzImage initrd=initramfs.cpio.zst console=ttyS0 b2c.run=\"-e 'A=b ${b2c_sp:string}c' docker://x env\"\ninitrd initramfs.cpio.zst\nboot\n"},
	} {
		got, err := Write(tt.format, b)
		if err != nil || got != tt.want {
			t.Errorf("Write(%s) = %v\n%s\nwant\n%s", tt.format, err, got, tt.want)
		}
	}
	// U-Boot: the single quotes escaped, a device tree directory.
	arm := Boot{Kernel: "Image", Initrd: "initramfs.cpio.zst", Arch: "arm64", FDTDir: "dtbs", Cmdline: `console=ttyAMA0 b2c.run="-e 'A=b  c' docker://x env"`}
	armWant := "# Generated by b2c boot-config.\nDEFAULT b2c\nPROMPT 0\nTIMEOUT 0\n\nLABEL b2c\n\tKERNEL Image\n\tINITRD initramfs.cpio.zst\n\tFDTDIR dtbs\n\tAPPEND console=ttyAMA0 b2c.run=\"-e \\'A=b  c\\' docker://x env\"\n"
	for _, f := range []string{"syslinux", "extlinux"} {
		if got, err := Write(f, arm); err != nil || got != armWant {
			t.Errorf("Write(%s, arm64) = %v\n%s\nwant\n%s", f, err, got, armWant)
		}
	}
	b.Cmdline = `console=ttyS0 b2c.run="-e A=b=c docker://x env"`
	got, err := Grub(b)
	want := "# Generated by b2c boot-config.\nset default=0\nset timeout=0\n\nmenuentry 'b2c' {\n\tlinux bzImage console=ttyS0 'b2c.run=-e A=b=c docker://x env'\n\tinitrd initramfs.cpio.zst\n}\n"
	if err != nil || got != want {
		t.Errorf("Grub = %v\n%s\nwant\n%s", err, got, want)
	}
}

func TestPXELinuxMACFile(t *testing.T) {
	for _, tt := range []struct{ mac, want, err string }{
		{"52:54:00:12:34:56", "pxelinux.cfg/01-52-54-00-12-34-56", ""},
		{"52-54-00-AB-CD-EF", "pxelinux.cfg/01-52-54-00-ab-cd-ef", ""},
		{"nope", "", "invalid MAC"},
		{"00:00:00:00:fe:80:00:00:00:00:00:00:02:00:5e:10:00:00:00:01", "", "not an Ethernet"},
	} {
		got, err := PXELinuxMACFile(tt.mac)
		if got != tt.want || (err == nil) != (tt.err == "") || err != nil && !strings.Contains(err.Error(), tt.err) {
			t.Errorf("PXELinuxMACFile(%q) = %q, %v; want %q, error %q", tt.mac, got, err, tt.want, tt.err)
		}
	}
}

// TestFDTDir: only U-Boot loads a device tree from a directory.
func TestFDTDir(t *testing.T) {
	for _, r := range readers() {
		_, err := Write(r.format, Boot{Kernel: "k", Initrd: "i", Arch: r.arch, FDTDir: "dtbs", Cmdline: "b2c.x=1"})
		if u := r.arch == "arm64"; (err == nil) != u {
			t.Errorf("Write(%s) with a device tree directory: %v, want an error: %v", r, err, !u)
		}
	}
	if _, err := Write("extlinux", Boot{Kernel: "k", Initrd: "i", Arch: "arm64", FDTDir: "my dtbs"}); err == nil {
		t.Error("a device tree directory with a space: no error")
	}
}

func TestReleasePath(t *testing.T) {
	for _, tt := range []struct{ format, want string }{
		{"syslinux", "Image"}, {"ipxe", "Image"}, {"extlinux", "/Image"},
	} {
		if got := ReleasePath(tt.format, "Image"); got != tt.want {
			t.Errorf("ReleasePath(%s, Image) = %s, want %s", tt.format, got, tt.want)
		}
	}
}

func TestWriteUnknown(t *testing.T) {
	_, err := Write("lilo", Boot{Kernel: "k", Initrd: "i"})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(strings.Join(Formats(), ", "))) {
		t.Errorf("Write(lilo) = %v, want the list of formats", err)
	}
}
