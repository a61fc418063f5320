package floor

import (
	"bytes"
	"debug/elf"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/ci/vm"
	"github.com/klauspost/compress/zstd"
	"github.com/u-root/u-root/pkg/cpio"
)

// readInitramfs returns the records of an initramfs, by name.
func readInitramfs(t *testing.T, path string) map[string]cpio.Record {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasSuffix(path, ".zst") {
		zr, err := zstd.NewReader(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		if b, err = io.ReadAll(zr); err != nil {
			t.Fatal(err)
		}
	}
	records, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(b)))
	if err != nil {
		t.Fatal(err)
	}
	m := map[string]cpio.Record{}
	for _, r := range records {
		m[r.Name] = r
	}
	return m
}

func TestWriteInitramfs(t *testing.T) {
	dir := t.TempDir()
	init := filepath.Join(dir, "init-bin")
	busybox := filepath.Join(dir, "busybox-bin")
	for f, data := range map[string]string{init: "INIT", busybox: "BUSYBOX"} {
		if err := os.WriteFile(f, []byte(data), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"floor.cpio", "floor.cpio.zst"} {
		t.Run(name, func(t *testing.T) {
			out := filepath.Join(dir, name)
			if err := WriteInitramfs(out, init, busybox); err != nil {
				t.Fatal(err)
			}
			records := readInitramfs(t, out)
			for name, want := range map[string]struct {
				mode uint64
				data string
			}{
				"init":        {cpio.S_IFREG | 0o755, "INIT"},
				"bin/busybox": {cpio.S_IFREG | 0o755, "BUSYBOX"},
				"bin":         {cpio.S_IFDIR | 0o755, ""},
				"dev":         {cpio.S_IFDIR | 0o755, ""},
				"proc":        {cpio.S_IFDIR | 0o755, ""},
				"sys":         {cpio.S_IFDIR | 0o755, ""},
				"dev/console": {cpio.S_IFCHR | 0o600, ""},
			} {
				r, ok := records[name]
				if !ok {
					t.Errorf("no %s in the initramfs", name)
					continue
				}
				if r.Mode != want.mode {
					t.Errorf("%s: mode %o, want %o", name, r.Mode, want.mode)
				}
				if r.ReaderAt != nil {
					b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
					if err != nil || string(b) != want.data {
						t.Errorf("%s: contents %q (%v), want %q", name, b, err, want.data)
					}
				}
			}
			if c := records["dev/console"]; c.Rmajor != 5 || c.Rminor != 1 {
				t.Errorf("dev/console is %d:%d, want 5:1", c.Rmajor, c.Rminor)
			}
		})
	}
	if err := WriteInitramfs(filepath.Join(dir, "x"), filepath.Join(dir, "nope"), busybox); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("WriteInitramfs with a missing init = %v, want ErrNotExist", err)
	}
}

func TestBuildInit(t *testing.T) {
	out := filepath.Join(t.TempDir(), "init")
	if err := BuildInit(t.Context(), "amd64", out); err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Machine != elf.EM_X86_64 {
		t.Errorf("init is for %v, want x86-64", f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("init is dynamically linked: the initramfs has no libc")
		}
	}
}

// TestFloorBoots boots the floor with the repository's kernels.
func TestFloorBoots(t *testing.T) {
	for _, tt := range []struct{ arch, kernel string }{{"amd64", "bzImage"}, {"arm64", "Image"}} {
		t.Run(tt.arch, func(t *testing.T) {
			kernel, err := filepath.Abs(filepath.Join("..", "..", "out", tt.kernel))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(kernel); err != nil {
				t.Fatalf("no kernel: %v (make e2e builds it first; alone: make kernel ARCH=%s)", err, tt.arch)
			}
			initramfs := filepath.Join(t.TempDir(), "floor.cpio.zst")
			if err := Build(t.Context(), tt.arch, initramfs); err != nil {
				t.Fatal(err)
			}
			v, err := vm.Start(t.Context(), vm.Arch(tt.arch), vm.Kernel(kernel), vm.Initramfs(initramfs), vm.NoNIC(),
				vm.Timeout(2*time.Minute), vm.Log(vm.TestLog(t)))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(v.Kill)
			for _, re := range []string{`^` + FirstLine + `$`, `^` + Payload + `$`, `^` + DoneLine + `$`, `reboot: Power down`} {
				if _, err := v.Expect(re); err != nil {
					t.Fatal(err)
				}
			}
			if err := v.Wait(); err != nil {
				t.Fatal(err)
			}
			if l, ok, _ := v.FirstLine(`floor: error`); ok {
				t.Errorf("the floor init failed: %s", l.Text)
			}
			first, _, _ := v.FirstLine(`^` + FirstLine + `$`)
			done, _, _ := v.FirstLine(`^` + DoneLine + `$`)
			t.Logf("floor (%s, %s): first line after %v, done after %v", tt.arch, v.Accel(), first.At, done.At)
		})
	}
}
