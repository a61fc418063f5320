package e2e

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/ci/images"
)

// The scenarios of `b2c run` (cmd/b2c): the CLI is built from the root
// module and run as a user would, against a local OCI archive that it
// serves to the guest itself.

// rootTags are the build tags of the root module (see the Makefile).
const rootTags = "remote exclude_graphdriver_btrfs btrfs_noversion exclude_graphdriver_devicemapper containers_image_openpgp"

var (
	b2cOnce   sync.Once
	b2cBinary string
	b2cErr    error

	archiveOnce sync.Once
	archive     string
	archiveErr  error
)

// b2c builds the CLI once per test binary, in binDir.
func b2c(t *testing.T) string {
	t.Helper()
	b2cOnce.Do(func() {
		b2cBinary = filepath.Join(binDir, "b2c")
		cmd := exec.Command("go", "build", "-tags", rootTags, "-o", b2cBinary, "./cmd/b2c")
		cmd.Dir = filepath.Join("..", "..")
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod")
		if out, err := cmd.CombinedOutput(); err != nil {
			b2cErr = fmt.Errorf("go build ./cmd/b2c: %v\n%s", err, out)
		}
	})
	if b2cErr != nil {
		t.Fatal(b2cErr)
	}
	return b2cBinary
}

// ociArchive is the busybox test image, with a 4 MiB layer that makes its
// download count, as an OCI archive.
func ociArchive(t *testing.T) string {
	t.Helper()
	archiveOnce.Do(func() {
		img, err := images.Busybox()
		if err == nil {
			img, err = images.WithBlob(img, "/blob", 4<<20, 1)
		}
		archive = filepath.Join(binDir, "busybox-oci.tar")
		if err == nil {
			err = images.WriteOCIArchive(img, archive)
		}
		archiveErr = err
	})
	if archiveErr != nil {
		t.Fatal(archiveErr)
	}
	return archive
}

// runResult is how a b2c run ended.
type runResult struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// b2cProc is a running `b2c run`.
type b2cProc struct {
	cmd            *exec.Cmd
	stdout, stderr syncBuffer
	started        time.Time
	done           chan struct{} // closed when cmd.Wait returned
	err            error         // from cmd.Wait
}

// syncBuffer is a bytes.Buffer that a test reads while exec writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// newB2C prepares `b2c run` with the repository's kernel and initramfs
// and the given arguments.
func newB2C(t *testing.T, args ...string) *b2cProc {
	t.Helper()
	argv := append([]string{"run", "--kernel", kernel, "--initramfs", initramfs}, args...)
	p := &b2cProc{cmd: exec.Command(b2c(t), argv...), done: make(chan struct{})}
	p.cmd.Stdout = &p.stdout
	p.cmd.Stderr = &p.stderr
	return p
}

// start starts the run; it logs the command so that it can be run again.
func (p *b2cProc) start(t *testing.T) *b2cProc {
	t.Helper()
	t.Logf("b2c %s", strings.Join(p.cmd.Args[1:], " "))
	p.started = time.Now()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	// A failed test must not leave a VM behind: b2c's QEMU dies with it.
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// startB2C starts `b2c run` with the given arguments.
func startB2C(t *testing.T, args ...string) *b2cProc {
	t.Helper()
	return newB2C(t, args...).start(t)
}

// wait waits for the run to end, within the VM's time bound.
func (p *b2cProc) wait(t *testing.T) runResult {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(vmTimeout):
		p.cmd.Process.Kill()
		<-p.done
		t.Fatalf("b2c run did not end within %v\nstdout:\n%s\nstderr:\n%s", vmTimeout, p.stdout.String(), p.stderr.String())
	}
	if _, ok := p.err.(*exec.ExitError); p.err != nil && !ok {
		t.Fatal(p.err)
	}
	r := runResult{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String(), took: time.Since(p.started)}
	t.Logf("exit %d after %.1f s\nstdout:\n%s\nstderr:\n%s", r.code, r.took.Seconds(), r.stdout, r.stderr)
	return r
}

// waitStdout waits until stdout holds s; false if the run ends first.
func (p *b2cProc) waitStdout(s string) bool {
	timeout := time.After(vmTimeout)
	for !strings.Contains(p.stdout.String(), s) {
		select {
		case <-p.done:
			return strings.Contains(p.stdout.String(), s)
		case <-timeout:
			return false
		case <-time.After(200 * time.Millisecond):
		}
	}
	return true
}

func runB2C(t *testing.T, args ...string) runResult {
	t.Helper()
	return startB2C(t, args...).wait(t)
}

// TestRunExitCode: the container's output, and nothing else, on stdout,
// and its exit code as b2c's.
func TestRunExitCode(t *testing.T) {
	r := runB2C(t, ociArchive(t), "sh", "-c", "echo hi; exit 7")
	if r.code != 7 {
		t.Errorf("exit code %d, want 7", r.code)
	}
	if r.stdout != "hi\n" {
		t.Errorf("stdout %q, want %q", r.stdout, "hi\n")
	}
}

// TestRunShare: a file the container writes in a --share comes back to
// the host as an ordinary file of the user running b2c. Under root, b2c
// runs as nobody, so that the owner shows it is not the guest's root.
func TestRunShare(t *testing.T) {
	home := t.TempDir()
	dir := filepath.Join(home, "results")
	p := newB2C(t, "--share", dir+":/results", ociArchive(t),
		"sh", "-c", "mkdir /results/sub && echo from the container > /results/sub/out.txt && chmod 640 /results/sub/out.txt")
	uid := os.Getuid()
	if uid == 0 {
		uid = asNobody(t, p, home)
	}
	r := p.start(t).wait(t)
	if r.code != 0 {
		t.Fatalf("exit code %d, want 0", r.code)
	}
	file := filepath.Join(dir, "sub", "out.txt")
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != "from the container\n" {
		t.Errorf("%s holds %q", file, b)
	}
	for _, f := range []string{filepath.Join(dir, "sub"), file} {
		fi, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
			t.Errorf("%s: owner %d, want %d", f, st.Uid, uid)
		}
	}
	if fi, _ := os.Stat(file); fi.Mode() != 0o640 {
		t.Errorf("%s: mode %v, want -rw-r-----", file, fi.Mode())
	}
}

// nobody is the user root tests run b2c as.
const nobody = 65534

// asNobody makes p run as nobody with home as its home, cache and
// temporary directory, and lets nobody read what b2c needs.
func asNobody(t *testing.T, p *b2cProc, home string) int {
	t.Helper()
	for _, d := range []string{filepath.Dir(home), home, binDir} {
		if err := os.Chmod(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(home, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	// The repository may sit where nobody cannot read (a clone in /root,
	// as in ci/fresh.sh's root): nobody boots its own copies.
	for i := 1; i < len(p.cmd.Args); i++ {
		if a := p.cmd.Args[i]; (a == kernel || a == initramfs) && strings.HasPrefix(p.cmd.Args[i-1], "--") {
			b, err := os.ReadFile(a)
			if err != nil {
				t.Fatal(err)
			}
			own := filepath.Join(home, filepath.Base(a))
			if err := os.WriteFile(own, b, 0o644); err != nil {
				t.Fatal(err)
			}
			p.cmd.Args[i] = own
		}
	}
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	p.cmd.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME="+home, "TMPDIR="+home)
	return nobody
}

// layerDownloads reads the layer downloads b2c -v reports.
var layerDownloads = regexp.MustCompile(`b2c: local registry: (\d+) layer downloads of (\d+) layers`)

// TestRunCache: the second run on a --cache disk downloads no layer from
// the registry inside b2c.
func TestRunCache(t *testing.T) {
	disk := filepath.Join(t.TempDir(), "cache.img")
	var took []time.Duration
	for i, want := range []string{"first", "second"} {
		r := runB2C(t, "-v", "--cache", disk+":2G", ociArchive(t), "echo", "run "+want)
		if r.code != 0 || !regexp.MustCompile(`(?m)^run `+want+`$`).MatchString(r.stdout) {
			t.Fatalf("run %d: exit %d, want 0 and the line %q", i+1, r.code, "run "+want)
		}
		m := layerDownloads.FindStringSubmatch(r.stderr)
		if m == nil {
			t.Fatalf("run %d: no registry counts in stderr", i+1)
		}
		got, layers := atoi(m[1]), atoi(m[2])
		switch {
		case i == 0 && (layers < 2 || got != layers):
			t.Errorf("first run: %d layer downloads of %d layers, want all of at least 2", got, layers)
		case i == 1 && got != 0:
			t.Errorf("second run: %d layer downloads, want 0: the cache should hold them", got)
		}
		took = append(took, r.took)
	}
	if fi, err := os.Stat(disk); err != nil || fi.Size() != 2<<30 {
		t.Errorf("cache disk: %v, %v; want 2 GiB", fi, err)
	}
	t.Logf("b2c run: %.1f s on a blank cache, %.1f s on the filled one", took[0].Seconds(), took[1].Seconds())
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

// TestRunInterrupt: SIGINT, as a terminal's Ctrl-C sends it, stops the VM
// and b2c exits 130 with no QEMU left.
func TestRunInterrupt(t *testing.T) {
	mark := fmt.Sprintf("b2c.hostname=interrupt-%d", os.Getpid())
	p := startB2C(t, "--append", mark, ociArchive(t), "sh", "-c", "echo started; sleep 600")
	if !p.waitStdout("started\n") {
		p.wait(t)
		t.Fatal("the container did not start")
	}
	if n := qemuWith(t, mark); n != 1 {
		t.Errorf("%d QEMU processes with %s before SIGINT, want 1", n, mark)
	}
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	r := p.wait(t)
	if r.code != 130 {
		t.Errorf("exit code %d, want 130", r.code)
	}
	if n := qemuWith(t, mark); n != 0 {
		t.Errorf("%d QEMU processes left with %s", n, mark)
	}
}

// qemuWith counts the QEMU processes whose command line holds s.
func qemuWith(t *testing.T, s string) int {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // ended meanwhile
		}
		argv := strings.Split(string(b), "\x00")
		if strings.Contains(filepath.Base(argv[0]), "qemu-system") && bytes.Contains(b, []byte(s)) {
			n++
		}
	}
	return n
}

// TestRunUsage: a bad flag is a usage error, exit 2, before any VM.
func TestRunUsage(t *testing.T) {
	for _, args := range [][]string{
		{"--no-such-flag", "alpine"},
		{"--mem", "lots", "alpine"},
		{"--", "--pull=sometimes", "alpine"},
	} {
		cmd := exec.Command(b2c(t), append([]string{"run"}, args...)...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		cmd.Stdout = io.Discard
		err := cmd.Run()
		if code := cmd.ProcessState.ExitCode(); code != 2 || !strings.Contains(stderr.String(), "usage: b2c run") {
			t.Errorf("b2c run %q: exit %d (%v), stderr %q; want 2 and the usage", args, code, err, stderr.String())
		}
	}
}

// TestRunMissingImage: an image the registry does not have, or a file
// that does not exist, is reported before any VM boots.
func TestRunMissingImage(t *testing.T) {
	for _, image := range []string{reg.Addr() + "/b2c/no-such-image:latest", "./no-such-image.tar"} {
		r := runB2C(t, "-v", image, "echo", "never")
		if r.code != 255 || !strings.Contains(r.stderr, "no-such-image") {
			t.Errorf("b2c run %s: exit %d, want 255 and an error naming the image", image, r.code)
		}
		if strings.Contains(r.stdout+r.stderr, "accel") {
			t.Errorf("b2c run %s: QEMU was started", image)
		}
	}
}
