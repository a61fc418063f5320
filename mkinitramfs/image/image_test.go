package image

import (
	"bytes"
	"debug/elf"
	"go/format"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	mkcpio "github.com/u-root/mkuimage/cpio"
	"github.com/u-root/u-root/pkg/cpio"
	"github.com/u-root/uio/llog"
)

// TestBuild builds a whole image, with a script as a stand-in for podman
// built with the agent (which takes minutes to build cold), and reads it
// back with u-root's cpio reader.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	podman := filepath.Join(dir, "podman")
	const podmanScript = "#!/bin/sh\necho fake podman\n"
	if err := os.WriteFile(podman, []byte(podmanScript), 0o755); err != nil {
		t.Fatal(err)
	}
	base := filepath.Join(dir, "base.cpio")
	writeCPIO(t, base,
		mkcpio.StaticFile("init", "the base's init", 0o755),
		mkcpio.StaticFile("etc/b2c.version", "the base's version", 0o644),
		mkcpio.StaticFile("etc/extra", "extra", 0o644),
	)

	cfg := Defaults()
	cfg.Output = filepath.Join(dir, "out", "initramfs.cpio.zst")
	cfg.Agent = "" // ship the stand-in
	cfg.Podman = podman
	cfg.Configs = "../../configs"
	cfg.Version = "v1.2.3-test"
	cfg.Base = base
	l := llog.New(slog.LevelWarn, t.Logf)
	res, err := Build(l, cfg)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}

	compressed, err := os.ReadFile(cfg.Output)
	if err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(cfg.Output); st.Mode().Perm() != 0o644 {
		t.Errorf("%s: mode %v, want 0644", cfg.Output, st.Mode())
	}
	dec, err := zstd.NewReader(bytes.NewReader(compressed))
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(dec)
	if err != nil {
		t.Fatalf("zstd: %v", err)
	}
	if res.Raw != int64(len(raw)) || res.Compressed != int64(len(compressed)) {
		t.Errorf("Build = %+v; the files are %d bytes raw, %d compressed", res, len(raw), len(compressed))
	}
	rs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatalf("cpio: %v", err)
	}
	img := map[string]cpio.Record{}
	for _, r := range rs {
		img[r.Name] = r
	}
	if res.Records != len(img) {
		t.Errorf("Build: %d records, the archive has %d", res.Records, len(img))
	}
	content := func(name string) string {
		t.Helper()
		r, ok := img[name]
		if !ok {
			t.Errorf("/%s is missing", name)
			return ""
		}
		b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	// file checks that name is a regular file, once its symlink (in the
	// same directory or the root's) is followed, with mode perm.
	file := func(name string, perm uint64) {
		t.Helper()
		r, ok := img[name]
		if ok && r.Mode&cpio.S_IFMT == cpio.S_IFLNK {
			target := content(name)
			if !path.IsAbs(target) {
				target = path.Join(path.Dir(name), target)
			}
			name = strings.TrimPrefix(path.Clean(target), "/")
			r, ok = img[name]
		}
		if !ok || r.Mode&cpio.S_IFMT != cpio.S_IFREG || r.Mode&0o7777 != perm {
			t.Errorf("/%s: %v, want a regular file with mode %o", name, r.Info, perm)
		}
	}

	file("init", 0o755)
	if content("init") != "bin/pid1" {
		t.Errorf("/init -> %q, want bin/pid1, the supervisor", content("init"))
	}
	// The agent, which the supervisor starts, is podman.
	if content("bin/init") != "../usr/bin/podman" {
		t.Errorf("/bin/init -> %q, want ../usr/bin/podman", content("bin/init"))
	}
	// podman is in its squashfs image, which PID 1 mounts.
	if got := content("usr/bin/podman"); got != "../lib/b2c/podman/b2c-podman" {
		t.Errorf("/usr/bin/podman -> %q, want podman in its image's mount point", got)
	}
	file("usr/lib/b2c/podman.sqfs", 0o644)
	sqfs := filepath.Join(dir, "podman.sqfs")
	if err := os.WriteFile(sqfs, []byte(content("usr/lib/b2c/podman.sqfs")), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := exec.Command("unsquashfs", "-cat", sqfs, "b2c-podman").Output(); err != nil || string(got) != podmanScript {
		t.Errorf("podman in /usr/lib/b2c/podman.sqfs = %q (%v), want the -podman file", got, err)
	}
	file("usr/bin/crun", 0o755)
	file("usr/bin/conmon", 0o755)
	file("sbin/mke2fs", 0o755)
	file("lib64/ld-linux-x86-64.so.2", 0o755)
	for _, prog := range []string{"/usr/bin/crun", "/usr/bin/conmon", "/sbin/mke2fs"} {
		for _, so := range needed(t, prog) {
			if _, ok := img["lib/x86_64-linux-gnu/"+so]; !ok {
				t.Errorf("%s needs %s, missing from /lib/x86_64-linux-gnu", prog, so)
			}
		}
	}
	file("etc/ssl/certs/ca-certificates.crt", 0o644)
	for _, c := range []string{"containers.conf", "storage.conf", "registries.conf", "policy.json"} {
		want, err := os.ReadFile(filepath.Join("../../configs", c))
		if err != nil {
			t.Fatal(err)
		}
		if got := content("etc/containers/" + c); got != string(want) {
			t.Errorf("/etc/containers/%s = %q, want configs/%s", c, got, c)
		}
	}
	if _, ok := img["etc/containers/configs_test.go"]; ok {
		t.Errorf("the configs' test ships in /etc/containers")
	}
	if got := content("etc/b2c.version"); got != "v1.2.3-test\n" {
		t.Errorf("/etc/b2c.version = %q, want the -version", got)
	}
	// The extra cpio is merged in, its init moved away.
	if content("etc/extra") != "extra" || content("inito") != "the base's init" {
		t.Errorf("the base archive is not merged")
	}
	// One toolbox: busybox's ash is /bin/sh, as in the original.
	for _, l := range []string{"bin/sh", "bin/ls", "bin/ps", "sbin/poweroff"} {
		if got := path.Join(path.Dir(l), content(l)); got != "bin/busybox" {
			t.Errorf("/%s -> %q, want a link to /bin/busybox", l, content(l))
		}
	}
	file("bin/busybox", 0o755)
	if _, ok := img["bbin/bb"]; ok {
		t.Errorf("u-root's toolbox ships beside busybox")
	}
	for name, mode := range map[string]uint64{
		".":                  cpio.S_IFDIR | 0o755,
		"tmp":                cpio.S_IFDIR | 0o1777,
		"var/tmp":            cpio.S_IFDIR | 0o1777,
		"var/lib/containers": cpio.S_IFDIR | 0o700,
		"run":                cpio.S_IFDIR | 0o755,
		"dev/console":        cpio.S_IFCHR | 0o600,
	} {
		if r, ok := img[name]; !ok || r.Mode != mode || r.UID != 0 || r.GID != 0 {
			t.Errorf("/%s: %v, want mode %o owned by root", name, r.Info, mode)
		}
	}
	if c := img["dev/console"]; c.Rmajor != 5 || c.Rminor != 1 {
		t.Errorf("/dev/console: %v, want 5:1", c.Info)
	}

	// A failed build leaves the previous image, and no temporary file.
	bad := cfg
	bad.Supervisor = "github.com/b2c-dev/b2c/no/such/package"
	if _, err := Build(l, bad); err == nil {
		t.Fatalf("Build(%s) succeeded", bad.Supervisor)
	}
	if after, err := os.ReadFile(cfg.Output); err != nil || !bytes.Equal(after, compressed) {
		t.Errorf("a failed build changed %s (%v)", cfg.Output, err)
	}
	if es, _ := os.ReadDir(filepath.Dir(cfg.Output)); len(es) != 1 {
		t.Errorf("a failed build left files: %v", es)
	}
}

func needed(t *testing.T, prog string) []string {
	t.Helper()
	f, err := elf.Open(prog)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	libs, err := f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return libs
}

func writeCPIO(t *testing.T, name string, rs ...mkcpio.Record) {
	t.Helper()
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	w := mkcpio.Newc.Writer(f)
	if err := mkcpio.WriteRecordsAndDirs(w, rs); err != nil {
		t.Fatal(err)
	}
	if err := mkcpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestRegisterAgent: the file added to podman's main package is Go that
// imports the agent's package and calls its Register at init.
func TestRegisterAgent(t *testing.T) {
	src := registerAgent("github.com/b2c-dev/b2c/init/agent")
	f, err := parser.ParseFile(token.NewFileSet(), "zz_b2c_agent.go", src, 0)
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	if f.Name.Name != "main" || len(f.Imports) != 1 || f.Imports[0].Path.Value != `"github.com/b2c-dev/b2c/init/agent"` {
		t.Errorf("registerAgent: package %s, imports %v", f.Name.Name, f.Imports)
	}
	if formatted, err := format.Source([]byte(src)); err != nil || string(formatted) != src {
		t.Errorf("registerAgent is not gofmt'ed (%v):\n%s", err, src)
	}
	if !strings.Contains(src, "func init() { b2cagent.Register() }") {
		t.Errorf("registerAgent does not call Register:\n%s", src)
	}
}

// TestSyncDir: the directory ends with the files given, a Go file no
// longer given is removed, other files stay.
func TestSyncDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "_podman")
	steps := []map[string][]byte{
		{"main.go": []byte("package main\n"), "old.go": []byte("package main // old\n")},
		{"main.go": []byte("package main // new\n"), "zz.go": []byte("package main\n")},
	}
	for _, files := range steps {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "README"), []byte("kept"), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := syncDir(dir, files); err != nil {
			t.Fatal(err)
		}
		es, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != len(files)+1 {
			t.Errorf("after syncDir(%d files): %v", len(files), es)
		}
		for name, want := range files {
			if got, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s = %q (%v), want %q", name, got, err, want)
			}
		}
	}
}
