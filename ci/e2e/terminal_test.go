package e2e

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
)

// b2c run at a terminal and in pipelines (README, "b2c run"): the input
// and output of -i and -t containers travel byte for byte on ports of
// their own.

// TestRunPipedBinary: printf 'a\0b' | b2c run -i IMAGE od -c shows the NUL.
func TestRunPipedBinary(t *testing.T) {
	p := newB2C(t, "-i", ociArchive(t), "od", "-c")
	p.cmd.Stdin = strings.NewReader("a\x00b")
	r := p.start(t).wait(t)
	if r.code != 0 || !strings.Contains(r.stdout, `a  \0   b`) {
		t.Errorf("exit %d, stdout %q; want od's a  \\0   b", r.code, r.stdout)
	}
}

// TestRunPipedLines: seq 100000 | b2c run -i IMAGE wc -l prints 100000.
func TestRunPipedLines(t *testing.T) {
	var in bytes.Buffer
	for i := 1; i <= 100000; i++ {
		in.WriteString(strconv.Itoa(i) + "\n")
	}
	p := newB2C(t, "-i", ociArchive(t), "wc", "-l")
	p.cmd.Stdin = &in
	r := p.start(t).wait(t)
	if r.code != 0 || strings.TrimSpace(r.stdout) != "100000" {
		t.Errorf("exit %d, stdout %q; want 100000", r.code, r.stdout)
	}
}

// terminal is the reading side of a pseudo-terminal, kept whole.
type terminal struct {
	f   *os.File
	mu  sync.Mutex
	buf bytes.Buffer
}

func (tm *terminal) read() {
	b := make([]byte, 4096)
	for {
		n, err := tm.f.Read(b)
		tm.mu.Lock()
		tm.buf.Write(b[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// wait waits until what the terminal showed since from holds s, and
// returns where it ends.
func (tm *terminal) wait(t *testing.T, from int, s string, done <-chan struct{}) int {
	t.Helper()
	deadline := time.After(vmTimeout)
	for {
		tm.mu.Lock()
		text := tm.buf.String()
		tm.mu.Unlock()
		if i := strings.Index(text[from:], s); i >= 0 {
			return from + i + len(s)
		}
		select {
		case <-deadline:
			t.Fatalf("the terminal never showed %q:\n%q", s, text)
		case <-done:
			tm.mu.Lock()
			defer tm.mu.Unlock()
			if i := strings.Index(tm.buf.String()[from:], s); i >= 0 {
				return from + i + len(s)
			}
			t.Fatalf("b2c ended before the terminal showed %q:\n%q", s, tm.buf.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// TestRunTerminal: b2c run -ti IMAGE sh at a pseudo-terminal driven by the
// test: keys reach the shell, a change of the window's size reaches
// stty, and b2c exits with the shell's status.
func TestRunTerminal(t *testing.T) {
	p := newB2C(t, "-ti", ociArchive(t), "sh")
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	defer ptmx.Close()
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 30, Cols: 100}); err != nil {
		t.Fatal(err)
	}
	p.cmd.Stdin, p.cmd.Stdout, p.cmd.Stderr = tty, tty, tty
	// The terminal is b2c's controlling terminal: SIGWINCH reaches it.
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true}
	p.start(t)
	tty.Close()
	tm := &terminal{f: ptmx}
	go tm.read()
	at := tm.wait(t, 0, "# ", p.done) // busybox sh's prompt
	io.WriteString(ptmx, "stty size\r")
	at = tm.wait(t, at, "30 100", p.done)
	if err := pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Second) // the new size travels to the guest
	io.WriteString(ptmx, "stty size\r")
	at = tm.wait(t, at, "40 120", p.done)
	io.WriteString(ptmx, "echo $((6*7)); exit 3\r")
	tm.wait(t, at, "42", p.done)
	select {
	case <-p.done:
	case <-time.After(vmTimeout):
		t.Fatal("b2c did not end after the shell's exit")
	}
	if code := p.cmd.ProcessState.ExitCode(); code != 3 {
		tm.mu.Lock()
		t.Errorf("exit code %d, want 3; terminal:\n%q", code, tm.buf.String())
		tm.mu.Unlock()
	}
	t.Logf("b2c run -ti took %.1f s", time.Since(p.started).Seconds())
}

// TestRunKernelTree: --kernel on a tree laid out as a kernel build and
// `make modules_install INSTALL_MOD_PATH=tree` leave it (Debian's kernel,
// with the modules a VM needs): the agent loads them, with no
// b2c.insmods, and the container runs on that kernel.
func TestRunKernelTree(t *testing.T) {
	k := debianKernel(t)
	tree := t.TempDir()
	if err := k.Tree(tree, vmModules...); err != nil {
		t.Fatal(err)
	}
	r := runB2C(t, "--kernel", tree, ociArchive(t), "uname", "-r")
	if r.code != 0 || strings.TrimSpace(r.stdout) != k.Release {
		t.Errorf("exit %d, stdout %q; want %s", r.code, r.stdout, k.Release)
	}
}
