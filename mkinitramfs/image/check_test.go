package image

import (
	"debug/elf"
	"os"
	"strings"
	"testing"

	"github.com/u-root/mkuimage/cpio"
)

// testIndex is a merged-/usr style layout: lib64 and lib are links.
func testIndex() Index {
	dir := Entry{Mode: cpio.S_IFDIR | 0o755}
	file := Entry{Mode: cpio.S_IFREG | 0o755}
	link := func(to string) Entry { return Entry{Mode: cpio.S_IFLNK | 0o777, Link: to} }
	return Index{
		".":                        dir,
		"usr":                      dir,
		"usr/bin":                  dir,
		"usr/lib":                  dir,
		"usr/lib/x86_64-linux-gnu": dir,
		"usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2": file,
		"usr/lib/x86_64-linux-gnu/libc.so.6":            file,
		"usr/lib/x86_64-linux-gnu/libyajl.so.2":         link("libyajl.so.2.1.0"),
		"usr/lib/x86_64-linux-gnu/libyajl.so.2.1.0":     file,
		"usr/lib64":                      dir,
		"usr/lib64/ld-linux-x86-64.so.2": link("/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2"),
		"lib":                            link("usr/lib"),
		"lib64":                          link("usr/lib64"),
		"bin":                            link("usr/bin"),
		"usr/bin/loop":                   link("loop"),
		"usr/bin/up":                     link("../../../../usr/lib/x86_64-linux-gnu/libc.so.6"),
		"usr/bin/dangling":               link("/nowhere"),
		"opt":                            dir,
		"opt/app":                        dir,
		"opt/app/lib":                    dir,
		"opt/app/lib/libapp.so":          file,
	}
}

func TestResolve(t *testing.T) {
	ix := testIndex()
	for _, tt := range []struct {
		in, want string
		ok       bool
	}{
		{in: "usr/lib/x86_64-linux-gnu/libc.so.6", want: "usr/lib/x86_64-linux-gnu/libc.so.6", ok: true},
		{in: "/lib/x86_64-linux-gnu/libc.so.6", want: "usr/lib/x86_64-linux-gnu/libc.so.6", ok: true},
		{in: "/lib64/ld-linux-x86-64.so.2", want: "usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", ok: true},
		{in: "lib/x86_64-linux-gnu/libyajl.so.2", want: "usr/lib/x86_64-linux-gnu/libyajl.so.2.1.0", ok: true},
		{in: "bin/up", want: "usr/lib/x86_64-linux-gnu/libc.so.6", ok: true},
		{in: "lib", want: "usr/lib", ok: true},
		{in: "/", want: ".", ok: true},
		{in: "bin/loop"},
		{in: "bin/dangling"},
		{in: "lib/missing.so"},
		{in: "usr/lib/x86_64-linux-gnu/libc.so.6/x"},
	} {
		got, _, ok := ix.Resolve(tt.in)
		if ok != tt.ok || (ok && got != tt.want) {
			t.Errorf("Resolve(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCheck(t *testing.T) {
	const interp = "/lib64/ld-linux-x86-64.so.2"
	for _, tt := range []struct {
		name     string
		elf      Entry
		required []string
		want     []string // substrings of the error; none: no error
	}{
		{name: "static", elf: Entry{}},
		{name: "found through links", elf: Entry{Interp: interp, Needed: []string{"libc.so.6", "libyajl.so.2"}}},
		{name: "run path", elf: Entry{Interp: interp, Needed: []string{"libapp.so"}, RunPath: []string{"/opt/app/lib"}}},
		{name: "origin", elf: Entry{Interp: interp, Needed: []string{"libapp.so"}, RunPath: []string{"$ORIGIN/../lib"}}},
		{name: "origin braces", elf: Entry{Interp: interp, Needed: []string{"libapp.so"}, RunPath: []string{"${ORIGIN}/../lib"}}},
		{name: "no run path", elf: Entry{Interp: interp, Needed: []string{"libapp.so"}}, want: []string{"/opt/app/bin/prog: shared library libapp.so is missing"}},
		{name: "path soname", elf: Entry{Interp: interp, Needed: []string{"/opt/app/lib/libapp.so"}}},
		{
			name: "missing",
			elf:  Entry{Interp: "/lib/ld-musl-x86_64.so.1", Needed: []string{"libc.so.6", "libseccomp.so.2"}},
			want: []string{"interpreter /lib/ld-musl-x86_64.so.1 is missing", "shared library libseccomp.so.2 is missing"},
		},
		{name: "required", required: []string{"bin/up", "lib64/ld-linux-x86-64.so.2"}},
		{name: "required missing", required: []string{"init", "bin/dangling", "lib"}, want: []string{"/init is missing", "/bin/dangling is missing", "/lib is missing"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ix := testIndex()
			ix["opt/app/bin"] = Entry{Mode: cpio.S_IFDIR | 0o755}
			e := tt.elf
			e.Mode = cpio.S_IFREG | 0o755
			ix["opt/app/bin/prog"] = e
			err := ix.Check(Arch{GOARCH: "amd64", Triplet: "x86_64-linux-gnu", Machine: elf.EM_X86_64}, tt.required)
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("Check: %v", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Check: nil, want %q", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Check: %v\nwant %q in it", err, w)
				}
			}
		})
	}
}

// TestAddELF reads the dynamic linking of a real program: crun, which the
// image ships.
func TestAddELF(t *testing.T) {
	const crun = "/usr/bin/crun"
	f, err := elf.Open(crun)
	if err != nil {
		t.Fatalf("crun is installed with the image's build dependencies: %v", err)
	}
	needed, err := f.ImportedLibraries()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	r, err := cpio.NewRecorder().GetRecord(crun)
	if err != nil {
		t.Fatal(err)
	}
	r.Name = "usr/bin/crun"
	ix := Index{}
	if err := ix.Add(r); err != nil {
		t.Fatal(err)
	}
	e := ix["usr/bin/crun"]
	if e.Interp != "/lib64/ld-linux-x86-64.so.2" || strings.Join(e.Needed, " ") != strings.Join(needed, " ") {
		t.Errorf("Add(crun) = %+v, want interpreter /lib64/ld-linux-x86-64.so.2 and %q", e, needed)
	}

	// Not ELF, or not linked: no dynamic linking, no error.
	for name, content := range map[string]string{"text": "#!/bin/sh\n", "short": "\x7fEL", "module": "", "empty": ""} {
		var rec cpio.Record
		if name == "module" {
			rec = cpio.StaticRecord(elfRelocatable(t), cpio.Info{Name: name, Mode: cpio.S_IFREG | 0o644})
		} else {
			rec = cpio.StaticFile(name, content, 0o644)
		}
		if err := ix.Add(rec); err != nil || ix[name].Interp != "" || len(ix[name].Needed) != 0 {
			t.Errorf("Add(%s) = %+v, %v; want no linking", name, ix[name], err)
		}
	}
	if err := ix.Add(cpio.Symlink("lib64", "usr/lib64")); err != nil || ix["lib64"].Link != "usr/lib64" {
		t.Errorf("Add(symlink) = %+v, %v", ix["lib64"], err)
	}
}

// elfRelocatable returns an object file of the running Go toolchain's
// platform: an ELF header of type ET_REL, as a kernel module has.
func elfRelocatable(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("/usr/bin/crun")
	if err != nil {
		t.Fatal(err)
	}
	h := append([]byte(nil), b[:64]...)
	h[16], h[17] = byte(elf.ET_REL), 0 // e_type, little endian
	// No section or program headers: e_phoff, e_shoff, e_phnum, e_shnum.
	for i := 32; i < 48; i++ {
		h[i] = 0
	}
	h[56], h[57], h[60], h[61] = 0, 0, 0, 0
	return h
}
