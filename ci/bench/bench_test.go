// Package bench measures b2c's boot path (`make bench`): the initramfs
// size, and the times from QEMU's start to /init, to the container's first
// line and to the power off, against a floor measured in the same run: the
// same kernel with a minimal init that runs the same payload directly.
// The demo boots twice: as is, and with b2c.extra_args_url, which moves
// the storage and podman's start after the extra options. Then the demo
// and the floor boot on arm64 (QEMU's virt machine).
package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"

	"github.com/b2c-dev/b2c/ci/demo"
	"github.com/b2c-dev/b2c/ci/floor"
	"github.com/b2c-dev/b2c/ci/images"
	"github.com/b2c-dev/b2c/ci/vm"
)

const runs = 5

type timings struct{ init, first, off []time.Duration }

// agentLine is the first line the agent prints itself: PID 1 prints the
// run's first lines (b2c's /init column) before the agent has started.
const agentLine = `\]: Runtime information$`

// agentStart adds when v's agent printed its first line to at.
func agentStart(v *vm.VM, at *[]time.Duration) error {
	d, err := lineAt(v, agentLine)
	if err != nil {
		return err
	}
	*at = append(*at, d)
	return nil
}

// lineAt returns when v printed its first line that matches re.
func lineAt(v *vm.VM, re string) (time.Duration, error) {
	l, ok, err := v.FirstLine(re)
	if err != nil || !ok {
		return 0, fmt.Errorf("no line %q: %v", re, err)
	}
	return l.At, nil
}

func (t *timings) add(v *vm.VM, initRE, firstRE, offRE string) error {
	for _, x := range []struct {
		re  string
		dst *[]time.Duration
	}{{initRE, &t.init}, {firstRE, &t.first}, {offRE, &t.off}} {
		at, err := lineAt(v, x.re)
		if err != nil {
			return err
		}
		*x.dst = append(*x.dst, at)
	}
	return nil
}

// prepare returns the initramfs's file (its compressed size) and raw
// size, and builds the floor of arch.
func prepare(b *testing.B, ctx context.Context, arch, initramfs string) (os.FileInfo, int64, string) {
	st, err := os.Stat(initramfs)
	if err != nil {
		b.Fatal(err)
	}
	raw, err := rawSize(initramfs)
	if err != nil {
		b.Fatal(err)
	}
	floorImg := filepath.Join(b.TempDir(), "floor-"+arch+".cpio.zst")
	if err := floor.Build(ctx, arch, floorImg); err != nil {
		b.Fatal(err)
	}
	return st, raw, floorImg
}

// floor boots the floor initramfs img on arch's kernel and adds its
// timings.
func (t *timings) floor(b *testing.B, ctx context.Context, arch, kernel, img string) {
	v, err := vm.Start(ctx, vm.Arch(arch), vm.Kernel(kernel), vm.Initramfs(img), vm.NoNIC(), vm.Timeout(2*time.Minute))
	if err != nil {
		b.Fatal(err)
	}
	defer v.Kill()
	if err := v.Wait(); err != nil {
		b.Fatalf("%s floor boot: %v", arch, err)
	}
	if err := t.add(v, `^`+floor.FirstLine+`$`, `^`+floor.Payload+`$`, `reboot: Power down`); err != nil {
		b.Fatal(err)
	}
}

// sections are the times of the Timings line's sections over several
// boots, in the order of the line.
type sections struct {
	names []string
	times map[string][]time.Duration
}

var timingsLine = regexp.MustCompile(`\]: Timings: (.*)$`)

// add reads v's Timings line.
func (s *sections) add(v *vm.VM) error {
	l, ok, err := v.FirstLine(timingsLine.String())
	if err != nil || !ok {
		return fmt.Errorf("no Timings line: %v", err)
	}
	if s.times == nil {
		s.times = map[string][]time.Duration{}
	}
	for _, f := range strings.Split(timingsLine.FindStringSubmatch(l.Text)[1], ", ") {
		name, val, ok := strings.Cut(f, " ")
		d, err := time.ParseDuration(val)
		if !ok || err != nil {
			return fmt.Errorf("Timings line %q: bad field %q", l.Text, f)
		}
		if _, seen := s.times[name]; !seen {
			s.names = append(s.names, name)
		}
		s.times[name] = append(s.times[name], d)
	}
	return nil
}

func (s sections) String() string {
	var b strings.Builder
	for _, n := range s.names {
		fmt.Fprintf(&b, "  %-26s %6.2f s\n", n, median(s.times[n]).Seconds())
	}
	return b.String()
}

// memoryFloor returns the smallest guest RAM, of the steps, at
// which the demo runs to status 0, or says none did.
func memoryFloor(b *testing.B, ctx context.Context, env *demo.Env, kernel, initramfs string) string {
	for _, mb := range []int{128, 160, 192, 256, 320} {
		// A boot that runs out of memory may hang rather than end.
		_, status, err := env.Boot(ctx, kernel, initramfs, io.Discard, vm.Memory(mb), vm.Timeout(2*time.Minute))
		if err == nil && status == 0 {
			return fmt.Sprintf("%d MiB", mb)
		}
		why := fmt.Sprintf("status %d", status)
		if err != nil {
			why, _, _ = strings.Cut(err.Error(), "\n") // not the console's tail
		}
		fmt.Printf("  -m %d: no status 0 (%s)\n", mb, why)
	}
	return "above 320 MiB"
}

// printTable prints the medians of rows, in the order of names.
func printTable(rows map[string]timings, names ...string) {
	fmt.Printf("%-8s %8s %14s %10s\n", "", "/init", "first line", "power off")
	for _, n := range names {
		r := rows[n]
		fmt.Printf("%-8s %8.2f %14.2f %10.2f\n", n, median(r.init).Seconds(), median(r.first).Seconds(), median(r.off).Seconds())
	}
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2]
}

func rawSize(path string) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	d, err := zstd.NewReader(f)
	if err != nil {
		return 0, err
	}
	defer d.Close()
	return io.Copy(io.Discard, d)
}

func BenchmarkBoot(b *testing.B) {
	out := os.Getenv("B2C_OUT")
	if out == "" {
		out = "../../out"
	}
	kernel := filepath.Join(out, "bzImage")
	initramfs := filepath.Join(out, "initramfs.linux_amd64.cpio.zst")
	ctx := context.Background()
	st, raw, floorImg := prepare(b, ctx, "amd64", initramfs)
	env, err := demo.Setup(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer env.Close()

	// The same demo with b2c.extra_args_url: the storage and podman's
	// service then wait for the extra options (docs/cmdline.md).
	args := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "b2c.hostname=bench\n")
	}))
	defer args.Close()
	extra := vm.Append("b2c.extra_args_url=http://10.0.2.2:" + args.URL[strings.LastIndex(args.URL, ":")+1:] + "/args")

	// `b2c run IMAGE true` as a developer types it, wall time.
	cli := filepath.Join(b.TempDir(), "b2c")
	build := exec.Command("go", "build", "-tags", "remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp", "-o", cli, "./cmd/b2c")
	build.Dir = filepath.Join("..", "..")
	build.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
	if out, err := build.CombinedOutput(); err != nil {
		b.Fatalf("go build ./cmd/b2c: %v\n%s", err, out)
	}
	img, err := images.Busybox()
	if err != nil {
		b.Fatal(err)
	}
	archive := filepath.Join(b.TempDir(), "busybox.tar")
	if err := images.WriteOCIArchive(img, archive); err != nil {
		b.Fatal(err)
	}
	var runWall, agent []time.Duration

	var b2c, withArgs, fl timings
	phases := sections{}
	for i := 0; i < b.N*runs; i++ {
		ev, status, err := env.Boot(ctx, kernel, initramfs, io.Discard, extra)
		if err != nil || status != 0 {
			b.Fatalf("demo boot %d with extra args: status %d, %v", i, status, err)
		}
		if err := withArgs.add(ev, `\]: Setting up the machine$`, `^`+demo.Payload+`$`, `reboot: Power down`); err != nil {
			b.Fatal(err)
		}
		v, status, err := env.Boot(ctx, kernel, initramfs, io.Discard)
		if err != nil || status != 0 {
			b.Fatalf("demo boot %d: status %d, %v", i, status, err)
		}
		if err := b2c.add(v, `\]: Setting up the machine$`, `^`+demo.Payload+`$`, `reboot: Power down`); err != nil {
			b.Fatal(err)
		}
		if err := phases.add(v); err != nil {
			b.Fatal(err)
		}
		if err := agentStart(v, &agent); err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		if out, err := exec.Command(cli, "run", "--kernel", kernel, "--initramfs", initramfs, archive, "true").CombinedOutput(); err != nil {
			b.Fatalf("b2c run %d: %v\n%s", i, err, out)
		}
		runWall = append(runWall, time.Since(start))
		fl.floor(b, ctx, "amd64", kernel, floorImg)
	}
	fmt.Printf("initramfs %s: %.1f MB zstd, %.1f MB raw\n", filepath.Base(initramfs), float64(st.Size())/1e6, float64(raw)/1e6)
	fmt.Printf("median of %d boots (QEMU TCG, -smp 2, -m 512), seconds from QEMU start:\n", len(b2c.first))
	printTable(map[string]timings{"b2c": b2c, "+extra": withArgs, "floor": fl}, "b2c", "+extra", "floor")
	fmt.Printf("b2c's /init is PID 1's first line; the agent's own first line (Runtime information): %.2f s\n", median(agent).Seconds())
	fmt.Printf("b2c run IMAGE true: %.2f s wall (median), %.2fx the floor's power off\n", median(runWall).Seconds(), median(runWall).Seconds()/median(fl.off).Seconds())
	ratio := median(b2c.first).Seconds() / median(fl.first).Seconds()
	fmt.Printf("first line / floor: %.2fx\n", ratio)
	fmt.Printf("b2c's sections (the Timings line), median of %d boots:\n%s", len(b2c.first), phases)
	mem := memoryFloor(b, ctx, env, kernel, initramfs)
	fmt.Printf("memory floor: %s\n", mem)
	b.ReportMetric(median(b2c.first).Seconds(), "s/first-line")
	b.ReportMetric(median(withArgs.first).Seconds(), "s/extra-args-first-line")
	b.ReportMetric(median(fl.first).Seconds(), "s/floor-first-line")
	b.ReportMetric(median(runWall).Seconds(), "s/b2c-run-true")
	b.ReportMetric(ratio, "first-line/floor")
	b.ReportMetric(float64(st.Size())/1e6, "MB-zstd")

	arm := benchARM64(b, ctx, out, env)
	b.ReportMetric(median(arm.first).Seconds(), "s/arm64-first-line")
}

// benchARM64 boots the demo and the floor on arm64 (QEMU's virt machine,
// TCG on any host), prints their figures and the arm64 initramfs's size,
// and returns b2c's timings.
func benchARM64(b *testing.B, ctx context.Context, out string, env *demo.Env) timings {
	kernel := filepath.Join(out, "Image")
	initramfs := filepath.Join(out, "initramfs.linux_arm64.cpio.zst")
	st, raw, floorImg := prepare(b, ctx, "arm64", initramfs)
	var b2c, fl timings
	var agent []time.Duration
	for i := 0; i < b.N*runs; i++ {
		v, status, err := env.Boot(ctx, kernel, initramfs, io.Discard, vm.Arch("arm64"))
		if err != nil || status != 0 {
			b.Fatalf("arm64 demo boot %d: status %d, %v", i, status, err)
		}
		if err := b2c.add(v, `\]: Setting up the machine$`, `^`+demo.Payload+`$`, `reboot: Power down`); err != nil {
			b.Fatal(err)
		}
		if err := agentStart(v, &agent); err != nil {
			b.Fatal(err)
		}
		fl.floor(b, ctx, "arm64", kernel, floorImg)
	}
	fmt.Printf("\narm64: initramfs %s: %.1f MB zstd, %.1f MB raw\n", filepath.Base(initramfs), float64(st.Size())/1e6, float64(raw)/1e6)
	fmt.Printf("arm64: median of %d boots (qemu-system-aarch64 -M virt -cpu max, TCG, -smp 2, -m 512), seconds from QEMU start:\n", len(b2c.first))
	printTable(map[string]timings{"b2c": b2c, "floor": fl}, "b2c", "floor")
	fmt.Printf("arm64: the agent's own first line (Runtime information): %.2f s\n", median(agent).Seconds())
	fmt.Printf("arm64: first line / floor: %.2fx\n", median(b2c.first).Seconds()/median(fl.first).Seconds())
	return b2c
}
