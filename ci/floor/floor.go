// Package floor builds the benchmark floor: the smallest initramfs that
// boots our kernel and runs b2c's demo payload (busybox echo), with a Go
// init (cmd/floorinit) that does nothing else. A b2c boot time is only
// meaningful next to the floor's, measured the same way.
package floor

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/u-root/pkg/cpio"

	"github.com/b2c-dev/b2c/ci/images"
)

// BusyboxPath is the static busybox of Debian's busybox-static package.
const BusyboxPath = "/bin/busybox"

// initPackage is the floor's init, built from this module's source.
const initPackage = "github.com/b2c-dev/b2c/ci/floor/cmd/floorinit"

// Lines the floor's init prints, for tests and benchmarks to wait for.
const (
	FirstLine = "floor: first line"
	Payload   = "hello from b2c"
	DoneLine  = "floor: done"
)

// Build writes the floor initramfs for arch (a GOARCH: amd64, arm64) to
// dst: zstd-compressed when dst ends in .zst (like b2c's), a plain newc
// cpio otherwise. Its busybox is Debian's for arch.
func Build(ctx context.Context, arch, dst string) error {
	dir, err := os.MkdirTemp("", "b2c-floor-")
	if err != nil {
		return fmt.Errorf("build floor: %w", err)
	}
	defer os.RemoveAll(dir)
	init := filepath.Join(dir, "init")
	if err := BuildInit(ctx, arch, init); err != nil {
		return err
	}
	bb, err := images.DebianBusybox(ctx, arch)
	if err != nil {
		return fmt.Errorf("build floor: %w", err)
	}
	return WriteInitramfs(dst, init, bb)
}

// BuildInit compiles the floor's init, static, for linux/arch, to dst.
func BuildInit(ctx context.Context, arch, dst string) error {
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags=-s -w", "-o", dst, initPackage)
	cmd.Dir = sourceDir()
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build floor init: %w: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

// sourceDir is this package's directory, inside the ci module, so that
// go build finds the module wherever the caller runs.
func sourceDir() string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return ""
	}
	dir := filepath.Dir(file)
	if _, err := os.Stat(dir); err != nil {
		return "" // a -trimpath build: fall back to the working directory
	}
	return dir
}

// WriteInitramfs writes to dst an initramfs with init as /init and busybox
// as /bin/busybox, plus the directories and /dev/console the init needs.
func WriteInitramfs(dst, init, busybox string) error {
	records := []cpio.Record{
		cpio.Directory("bin", 0o755),
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("proc", 0o755),
		cpio.Directory("sys", 0o755),
	}
	for _, f := range []struct{ name, path string }{{"init", init}, {"bin/busybox", busybox}} {
		b, err := os.ReadFile(f.path)
		if err != nil {
			if f.path == BusyboxPath {
				err = fmt.Errorf("%w: apt-get install busybox-static", err)
			}
			return fmt.Errorf("floor initramfs: %w", err)
		}
		records = append(records, cpio.StaticFile(f.name, string(b), 0o755))
	}
	cpio.MakeAllReproducible(records)

	var archive bytes.Buffer
	w := cpio.Newc.Writer(&archive)
	if err := cpio.WriteRecords(w, records); err != nil {
		return fmt.Errorf("floor initramfs: %w", err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return fmt.Errorf("floor initramfs: %w", err)
	}

	f, err := os.Create(dst)
	if err != nil {
		return fmt.Errorf("floor initramfs: %w", err)
	}
	defer f.Close()
	var out io.Writer = f
	var zw *zstd.Encoder
	if strings.HasSuffix(dst, ".zst") {
		if zw, err = zstd.NewWriter(f); err != nil {
			return fmt.Errorf("floor initramfs: %w", err)
		}
		out = zw
	}
	if _, err := archive.WriteTo(out); err != nil {
		return fmt.Errorf("floor initramfs: %w", err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			return fmt.Errorf("floor initramfs: %w", err)
		}
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("floor initramfs: %w", err)
	}
	return nil
}
