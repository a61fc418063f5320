package licenses

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/mkuimage/cpio"
)

func TestHostPaths(t *testing.T) {
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"usr/bin/crun", []string{"/usr/bin/crun", "/bin/crun"}},
		{"lib/x86_64-linux-gnu/libc.so.6", []string{"/lib/x86_64-linux-gnu/libc.so.6", "/usr/lib/x86_64-linux-gnu/libc.so.6"}},
		{"usr/lib/x86_64-linux-gnu/libc.so.6", []string{"/usr/lib/x86_64-linux-gnu/libc.so.6", "/lib/x86_64-linux-gnu/libc.so.6"}},
		{"bin/busybox", []string{"/bin/busybox", "/usr/bin/busybox"}},
		{"usr/share/keymaps/i386/qwerty/fr.kmap.gz", []string{"/usr/share/keymaps/i386/qwerty/fr.kmap.gz"}},
		{"etc/containers/policy.json", []string{"/etc/containers/policy.json"}},
	} {
		if got := hostPaths(tc.name); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("hostPaths(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestParseSearch(t *testing.T) {
	out := "crun: /usr/bin/crun\n" +
		"libc6:amd64: /lib/x86_64-linux-gnu/libc.so.6\n" +
		"diversion by dash from: /bin/sh\n" +
		"libfoo:amd64, libfoo-dev:amd64: /usr/lib/libfoo.so\n" +
		"dpkg-query: no path found matching pattern /etc/b2c.version\n"
	want := map[string][]string{
		"crun":   {"/usr/bin/crun"},
		"libc6":  {"/lib/x86_64-linux-gnu/libc.so.6"},
		"libfoo": {"/usr/lib/libfoo.so"},
	}
	if got := parseSearch([]byte(out)); !reflect.DeepEqual(got, want) {
		t.Errorf("parseSearch = %q, want %q", got, want)
	}
}

func TestLicenceFile(t *testing.T) {
	for name, want := range map[string]bool{
		"LICENSE": true, "LICENSE.md": true, "COPYING": true, "NOTICE": true, "PATENTS": true,
		"License.txt": true, "LICENCE": true, "COPYING.LESSER": true, "LICENSE-APACHE": true,
		"README.md": false, "license.go": false, "licenses": false, "go.mod": false,
	} {
		if got := isLicence(name); got != want {
			t.Errorf("isLicence(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestReadWrite lists a small archive holding a Go program (testdata/prog:
// a test binary carries no module list), a file of a Debian package and a file of b2c's own, then
// writes its licences with this machine's dpkg and module cache.
func TestReadWrite(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "prog")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/prog").CombinedOutput(); err != nil {
		t.Fatalf("go build ./testdata/prog: %v: %s", err, out)
	}
	prog, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	crun, err := os.ReadFile("/usr/bin/crun") // ci/deps.sh installs crun
	if err != nil {
		t.Fatalf("%v (make deps installs crun)", err)
	}
	// A second copy of the program, in a squashfs image, as podman is.
	if err := os.MkdirAll(filepath.Join(dir, "sqfs"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sqfs", "prog"), prog, 0o755); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mksquashfs", filepath.Join(dir, "sqfs"), filepath.Join(dir, "prog.sqfs"), "-quiet", "-no-progress").CombinedOutput(); err != nil {
		t.Fatalf("mksquashfs: %v: %s (make deps installs squashfs-tools)", err, out)
	}
	sqfs, err := os.ReadFile(filepath.Join(dir, "prog.sqfs"))
	if err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "initramfs.cpio.zst")
	writeArchive(t, archive, map[string][]byte{
		"bin/init":                          prog,
		"usr/lib/prog.sqfs":                 sqfs,
		"usr/bin/crun":                      crun,
		"etc/containers/policy.json":        []byte("{}"),
		"etc/ssl/certs/ca-certificates.crt": []byte("certs"),
	})
	goenv, err := exec.Command("go", "env", "GOMODCACHE", "GOROOT").Output()
	if err != nil {
		t.Fatal(err)
	}
	env := strings.Fields(string(goenv))
	own := filepath.Join(dir, "OWN")
	os.WriteFile(own, []byte("our licence\n"), 0o644)
	cfg := Config{
		ModCache: env[0], GoRoot: env[1], DocDir: "/usr/share/doc", Own: own,
		Generated: map[string]string{"etc/ssl/certs/ca-certificates.crt": "ca-certificates"},
		Dpkg: func(ctx context.Context, args ...string) ([]byte, error) {
			return exec.CommandContext(ctx, "dpkg-query", args...).Output()
		},
	}
	ctx := context.Background()
	inv, err := Read(ctx, cfg, archive)
	if err != nil {
		t.Fatalf("Read: %v", err)
	}
	if got, want := inv.Own, []string{"etc/containers/policy.json"}; !reflect.DeepEqual(got, want) {
		t.Errorf("Own = %q, want %q", got, want)
	}
	var pkgs []string
	for _, p := range inv.Packages {
		pkgs = append(pkgs, p.Name+"="+strings.Join(p.Files, ","))
	}
	if want := []string{"ca-certificates=etc/ssl/certs/ca-certificates.crt", "crun=usr/bin/crun"}; !reflect.DeepEqual(pkgs, want) {
		t.Errorf("Packages = %q, want %q", pkgs, want)
	}
	mods := map[string]bool{}
	for _, m := range inv.Programs["bin/init"] {
		mods[m.Path] = true
	}
	for _, m := range []string{"github.com/klauspost/compress", "golang.org/x/mod"} {
		if !mods[m] {
			t.Errorf("the modules of bin/init miss %s: %v", m, inv.Programs["bin/init"])
		}
	}
	if got, want := inv.Programs["usr/lib/prog.sqfs:prog"], inv.Programs["bin/init"]; !reflect.DeepEqual(got, want) {
		t.Errorf("the modules of the program in the squashfs image: %v, want %v", got, want)
	}
	out := filepath.Join(dir, "licenses")
	if err := Write(cfg, inv, out); err != nil {
		t.Fatalf("Write: %v", err)
	}
	doc, err := os.ReadFile(filepath.Join(out, "SOURCES.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| crun |", "`debian/crun.copyright`", "/etc/containers/policy.json", "github.com/klauspost/compress", "/bin/init"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("SOURCES.md lacks %q", want)
		}
	}
	for _, f := range []string{"LICENSE", "go/LICENSE", "debian/crun.copyright"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%v", err)
		}
	}
	matches, _ := filepath.Glob(filepath.Join(out, "go", "github.com", "klauspost", "compress@*", "LICENSE"))
	if len(matches) != 1 {
		t.Errorf("klauspost/compress's LICENSE: found %q", matches)
	}
}

func writeArchive(t *testing.T, path string, files map[string][]byte) {
	t.Helper()
	var raw bytes.Buffer
	w := cpio.Newc.Writer(&raw)
	var recs []cpio.Record
	for name, b := range files {
		recs = append(recs, cpio.StaticFile(name, string(b), 0o755))
	}
	if err := cpio.WriteRecordsAndDirs(w, recs); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	var z bytes.Buffer
	enc, _ := zstd.NewWriter(&z)
	enc.Write(raw.Bytes())
	enc.Close()
	if err := os.WriteFile(path, z.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
