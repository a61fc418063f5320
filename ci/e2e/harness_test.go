package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/b2c-dev/b2c/ci/images"
	"github.com/b2c-dev/b2c/ci/registry"
	"github.com/b2c-dev/b2c/ci/vm"
	"github.com/b2c-dev/b2c/cmd/b2c/kmods"
)

// The registry and the test image every scenario uses.
var (
	reg       *registry.Registry
	regDir    string // reg's storage, which other registries may serve too
	figures   string // measures the scenarios give, which make e2e prints
	busybox   string // the image as the guest names it
	kernel    string
	initramfs string
	binDir    string // what the scenarios build: the b2c CLI, image archives
)

// vmTimeout bounds each VM: TCG boots take seconds, pulls a few more.
const vmTimeout = 4 * time.Minute

func TestMain(m *testing.M) {
	os.Exit(setup(m))
}

func setup(m *testing.M) int {
	out := os.Getenv("B2C_OUT")
	if out == "" {
		out = "../../out"
	}
	kernel = filepath.Join(out, "bzImage")
	figures = filepath.Join(out, "e2e-figures.txt")
	os.Remove(figures)
	initramfs = filepath.Join(out, "initramfs.linux_amd64.cpio.zst")
	for _, f := range []string{kernel, initramfs} {
		if _, err := os.Stat(f); err != nil {
			// Not a skip: the end-to-end suite is part of make test,
			// which builds these first.
			fmt.Fprintf(os.Stderr, "e2e: %v (run make all first)\n", err)
			return 1
		}
	}
	dir, err := os.MkdirTemp("", "b2c-e2e-registry-")
	regDir = dir
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if binDir, err = os.MkdirTemp("", "b2c-e2e-bin-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(binDir)
	ctx := context.Background()
	reg, err = registry.Start(ctx, dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer reg.Close()
	img, err := images.Busybox()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := images.Push(ctx, img, reg.Addr()+"/b2c/busybox:latest"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	busybox = reg.GuestAddr() + "/b2c/busybox:latest"
	if err := setupARM64(ctx, out); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: arm64: %v\n", err)
		return 1
	}
	return m.Run()
}

// option is a kernel argument or a VM option for boot.
type option any

var noNIC = vm.NoNIC()

// run returns a b2c.run option running the test image with podman flags
// and a command: run(`echo hi`), run(`--pid=host`, `ps`).
func run(flagsAndCmd ...string) string {
	flags, cmd := "", flagsAndCmd[len(flagsAndCmd)-1]
	if len(flagsAndCmd) > 1 {
		flags = strings.Join(flagsAndCmd[:len(flagsAndCmd)-1], " ") + " "
	}
	return `b2c.run="--tls-verify=false ` + flags + `docker://` + busybox + ` ` + cmd + `"`
}

// boot starts a VM with b2c and the given kernel arguments and options.
func boot(t *testing.T, opts ...option) *vm.VM {
	t.Helper()
	vo := []vm.Option{vm.Kernel(kernel), vm.Initramfs(initramfs), vm.Timeout(vmTimeout), vm.Log(vm.TestLog(t))}
	for _, o := range opts {
		switch o := o.(type) {
		case string:
			vo = append(vo, vm.Append(o))
		case vm.Option:
			vo = append(vo, o)
		default:
			t.Fatalf("boot: bad option %T", o)
		}
	}
	v, err := vm.Start(t.Context(), vo...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Kill)
	return v
}

// expect waits for a console line, failing the test if it never comes.
func expect(t *testing.T, v *vm.VM, re string) []string {
	t.Helper()
	m, err := v.Expect(re)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// status waits for the end-of-run lines and for QEMU to exit, and returns
// the pipeline status the console gave.
func status(t *testing.T, v *vm.VM) int {
	t.Helper()
	m := expect(t, v, `\[.*\]: Execution is over, pipeline status: (\d+)$`)
	expect(t, v, `^(It's now safe to turn off your computer|Rebooting the computer)$`)
	if err := v.Wait(); err != nil {
		t.Fatalf("QEMU: %v", err)
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// withFiles returns the initramfs with files (path in the image: contents)
// added, in an archive appended to it (see appended).
func withFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	var records []cpio.Record
	dirs := map[string]bool{}
	for p, body := range files {
		for d := path.Dir(p); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
		records = append(records, cpio.StaticFile(p, body, 0o644))
	}
	for d := range dirs {
		records = append(records, cpio.Directory(d, 0o755))
	}
	// Parents before children.
	slices.SortFunc(records, func(a, b cpio.Record) int { return strings.Compare(a.Name, b.Name) })
	var archive bytes.Buffer
	w := cpio.Newc.Writer(&archive)
	if err := cpio.WriteRecords(w, records); err != nil {
		t.Fatal(err)
	}
	if err := cpio.WriteTrailer(w); err != nil {
		t.Fatal(err)
	}
	return appended(t, archive.Bytes())
}

// appended returns the initramfs with a newc archive appended, which the
// kernel unpacks over the first, as labs append their modules and
// firmware (and scenarios their certificates).
func appended(t *testing.T, archive []byte) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "initramfs-appended")
	if err := kmods.Append(out, initramfs, archive); err != nil {
		t.Fatal(err)
	}
	return out
}

// figure writes a line to out/e2e-figures.txt, which make e2e prints:
// go test shows no output of a passing package.
func figure(t *testing.T, format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	t.Log(line)
	if f, err := os.OpenFile(figures, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644); err == nil {
		fmt.Fprintln(f, line)
		f.Close()
	}
}
