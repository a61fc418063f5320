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
// grub-core/lib/cmdline.c), so that the tests check what the kernel gets.

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

// kernelGets returns the command lines the kernel gets from cfg in format.
func kernelGets(t *testing.T, format, cfg string) []string {
	switch format {
	case "syslinux":
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

func TestQuotingSurvives(t *testing.T) {
	all := Formats()
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
		{"trailing backslash", `b2c.x=a\`, map[string]string{"ipxe": "continue the script line", "grub": `holds "\\"`}},
		{"empty value", `b2c.x="" b2c.y=""`, nil},
		{"unbalanced quote", `b2c.run="echo`, map[string]string{"syslinux": "unbalanced", "ipxe": "unbalanced", "grub": "unbalanced", "systemd-boot": "unbalanced"}},
		{"line break", "b2c.run=x\nDEFAULT evil", map[string]string{"syslinux": "line break", "ipxe": "line break", "grub": "line break", "systemd-boot": "line break"}},
		{"syslinux dash", `-`, map[string]string{"syslinux": "no command line"}},
	} {
		for _, f := range all {
			t.Run(tt.name+"/"+f, func(t *testing.T) {
				cfg, err := Write(f, Boot{Kernel: "b2c/bzImage", Initrd: "b2c/initramfs.cpio.zst", Cmdline: tt.cmdline})
				if want, ok := tt.errs[f]; ok {
					if err == nil || !strings.Contains(err.Error(), want) {
						t.Fatalf("Write(%s, %q) = %v, want an error with %q\n%s", f, tt.cmdline, err, want, cfg)
					}
					return
				}
				if err != nil {
					t.Fatalf("Write(%s, %q): %v", f, tt.cmdline, err)
				}
				want := cmdline.Tokens(tt.cmdline)
				for _, got := range kernelGets(t, f, cfg) {
					toks := cmdline.Tokens(got)
					if f == "ipxe" {
						if len(toks) == 0 || toks[0] != "initrd=initramfs.cpio.zst" {
							t.Fatalf("iPXE command line %q does not start with initrd=", got)
						}
						toks = toks[1:]
					}
					if !reflect.DeepEqual(nonEmpty(toks), nonEmpty(want)) {
						t.Errorf("%s: the kernel gets %q: tokens %q, want %q\n%s", f, got, toks, want, cfg)
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

func TestWriteUnknown(t *testing.T) {
	_, err := Write("lilo", Boot{Kernel: "k", Initrd: "i"})
	if err == nil || !strings.Contains(err.Error(), fmt.Sprint(strings.Join(Formats(), ", "))) {
		t.Errorf("Write(lilo) = %v, want the list of formats", err)
	}
}
