// Package vm boots an x86_64 or arm64 QEMU virtual machine for end-to-end
// tests and reads its serial console, line by line, through a pipe.
//
// A test boots a kernel and an initramfs, waits for console lines with
// Expect and for QEMU to end with Wait:
//
//	v, err := vm.Start(t.Context(), vm.Kernel(k), vm.Initramfs(i),
//		vm.Append(`b2c.run="..."`), vm.Log(vm.TestLog(t)))
//	if err != nil {
//		t.Fatal(err)
//	}
//	t.Cleanup(v.Kill)
//	if _, err := v.Expect(`Execution is over, pipeline status: 0`); err != nil {
//		t.Fatal(err)
//	}
//
// QEMU runs in its own process group and gets SIGKILL when the VM times
// out, when the context is cancelled, on Kill, and when the test process
// dies, so no QEMU outlives its test.
package vm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// tailLines is how much of the console errors quote.
const tailLines = 30

// errKilled is why a VM ended when Kill was called.
var errKilled = errors.New("killed by vm.Kill")

// Line is one console line.
type Line struct {
	Text string        // without the line ending, \r and escape sequences
	Raw  string        // as the guest wrote it, without the line ending
	At   time.Duration // since QEMU was started
}

// VM is a running (or ended) QEMU.
type VM struct {
	argv    []string
	accel   string
	started time.Time
	timeout time.Duration
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	log     io.Writer
	logMu   sync.Mutex

	exited chan struct{} // closed once QEMU is reaped and output read
	kill   chan struct{} // closed by Kill
	once   sync.Once     // closes kill

	mu      sync.Mutex
	lines   []Line
	partial string        // console bytes after the last newline
	stderr  []string      // QEMU's own messages
	cursor  int           // index of the first line Expect has not consumed
	changed chan struct{} // closed and replaced on each new line
	done    bool          // QEMU ended and all its output is in lines
	reason  error         // why the harness stopped QEMU, if it did
	exitErr error         // from cmd.Wait
}

// Start boots a VM. Cancelling ctx kills it.
func Start(ctx context.Context, opts ...Option) (*VM, error) {
	c := defaultConfig()
	for _, o := range opts {
		o(&c)
	}
	if c.machine.Kernel == "" && !c.machine.FirmwareBoots() {
		return nil, errors.New("start vm: no kernel (use vm.Kernel, or vm.NetBoot or vm.DiskBoot)")
	}
	for _, f := range append([]string{c.machine.Kernel, c.machine.Initramfs, c.machine.BIOS}, c.machine.Disks...) {
		if f == "" {
			continue
		}
		if _, err := os.Stat(f); err != nil {
			return nil, fmt.Errorf("start vm: %w", err)
		}
	}
	arch, err := qemu.LookupArch(c.machine.Arch)
	if err != nil {
		return nil, fmt.Errorf("start vm: %w", err)
	}
	if c.qemu == "" {
		c.qemu = arch.Binary
	}
	bin, err := exec.LookPath(c.qemu)
	if err != nil {
		return nil, fmt.Errorf("start vm: %w (apt-get install %s)", err, arch.Package)
	}

	accel, why := c.accel, "forced by vm.Accel"
	if accel == "" && !arch.Native() {
		accel, why = qemu.AccelTCG, "a foreign architecture"
	} else if accel == "" && c.machine.Kernel == "" {
		accel, why = qemu.AccelTCG, "no kernel to probe KVM with"
	} else if accel == "" {
		accel, why = probe.get(bin, c.machine.Kernel)
	}

	v := &VM{
		argv:    append([]string{bin}, c.machine.Args(accel)...),
		accel:   accel,
		timeout: c.timeout,
		log:     c.log,
		exited:  make(chan struct{}),
		kill:    make(chan struct{}),
		changed: make(chan struct{}),
	}
	v.cmd = exec.Command(v.argv[0], v.argv[1:]...)
	// Its own process group so that one kill reaches anything QEMU
	// forks; Pdeathsig so that QEMU dies with a test binary that is
	// killed before its cleanups run.
	v.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if v.stdin, err = v.cmd.StdinPipe(); err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	stdout, err := v.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}
	stderr, err := v.cmd.StderrPipe()
	if err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}

	v.logf("vm: accel %s (%s)", accel, why)
	v.logf("vm: %s", qemu.ShellQuote(v.argv))
	v.started = time.Now()
	if err := v.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start qemu: %w", err)
	}

	var readers sync.WaitGroup
	readers.Add(2)
	go func() { defer readers.Done(); v.readConsole(stdout) }()
	go func() { defer readers.Done(); v.readStderr(stderr) }()
	go func() {
		// Wait must follow the last read from the pipes.
		readers.Wait()
		err := v.cmd.Wait()
		v.mu.Lock()
		v.exitErr = err
		v.done = true
		v.notifyLocked()
		v.mu.Unlock()
		close(v.exited)
	}()
	go v.supervise(ctx)
	return v, nil
}

// supervise kills QEMU when the VM times out, ctx ends or Kill is called.
func (v *VM) supervise(ctx context.Context) {
	timer := time.NewTimer(v.timeout)
	defer timer.Stop()
	select {
	case <-v.exited:
		return
	case <-timer.C:
		v.stop(fmt.Errorf("vm timed out after %v", v.timeout))
	case <-ctx.Done():
		v.stop(fmt.Errorf("context ended: %w", context.Cause(ctx)))
	case <-v.kill:
		v.stop(errKilled)
	}
}

// stop records why the harness ends QEMU and kills its process group.
func (v *VM) stop(reason error) {
	v.mu.Lock()
	done := v.done
	if v.reason == nil && !done {
		v.reason = reason
	}
	v.mu.Unlock()
	if done {
		// QEMU is reaped: its pid may belong to someone else by now.
		return
	}
	v.logf("vm: %v: killing qemu", reason)
	// ESRCH just means QEMU already ended.
	_ = syscall.Kill(-v.cmd.Process.Pid, syscall.SIGKILL)
}

func (v *VM) readConsole(r io.Reader) {
	buf := make([]byte, 4096)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			v.addConsole(string(buf[:n]), time.Since(v.started))
		}
		if err != nil {
			break
		}
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.partial != "" {
		// The last line of a VM that ends without a newline still counts.
		v.addLineLocked(v.partial, time.Since(v.started))
		v.partial = ""
		v.notifyLocked()
	}
}

// addConsole splits console output into lines, all timed at arrival.
func (v *VM) addConsole(s string, at time.Duration) {
	v.mu.Lock()
	defer v.mu.Unlock()
	s = v.partial + s
	for {
		i := strings.IndexByte(s, '\n')
		if i < 0 {
			break
		}
		v.addLineLocked(s[:i], at)
		s = s[i+1:]
	}
	v.partial = s
	v.notifyLocked()
}

func (v *VM) addLineLocked(raw string, at time.Duration) {
	text := qemu.CleanLine(raw)
	v.lines = append(v.lines, Line{Text: text, Raw: strings.TrimSuffix(raw, "\r"), At: at})
	v.logf("[%8.3fs] %s", at.Seconds(), text)
}

func (v *VM) readStderr(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		v.mu.Lock()
		v.stderr = append(v.stderr, sc.Text())
		v.mu.Unlock()
		v.logf("qemu: %s", sc.Text())
	}
	// Drain whatever a too-long line left, so QEMU never blocks on stderr.
	_, _ = io.Copy(io.Discard, r)
}

// notifyLocked wakes every waiter.
func (v *VM) notifyLocked() {
	close(v.changed)
	v.changed = make(chan struct{})
}

func (v *VM) logf(format string, args ...any) {
	v.logMu.Lock()
	defer v.logMu.Unlock()
	fmt.Fprintf(v.log, format+"\n", args...)
}

// Expect waits for a console line matching the regular expression re,
// searching from the line after the previous Expect match, and returns
// the match and its submatches. It fails when QEMU ends, or the VM times
// out, before such a line; the error quotes the tail of the console.
// Expect calls are meant to come from one goroutine.
func (v *VM) Expect(re string) ([]string, error) {
	return v.expect(re, nil)
}

// ExpectWithin is Expect with a deadline of its own, shorter than the VM's.
func (v *VM) ExpectWithin(re string, d time.Duration) ([]string, error) {
	t := time.NewTimer(d)
	defer t.Stop()
	return v.expect(re, t.C)
}

func (v *VM) expect(re string, deadline <-chan time.Time) ([]string, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return nil, fmt.Errorf("expect: %w", err)
	}
	for {
		v.mu.Lock()
		for v.cursor < len(v.lines) {
			l := v.lines[v.cursor]
			v.cursor++
			if m := rx.FindStringSubmatch(l.Text); m != nil {
				v.mu.Unlock()
				return m, nil
			}
		}
		if v.done {
			err := v.endErrLocked(fmt.Sprintf("waiting for %q", re))
			v.mu.Unlock()
			return nil, err
		}
		ch := v.changed
		v.mu.Unlock()
		select {
		case <-ch:
		case <-deadline:
			v.mu.Lock()
			err := fmt.Errorf("expect %q: no match within its deadline%s", re, v.tailLocked())
			v.mu.Unlock()
			return nil, err
		}
	}
}

// endErrLocked explains why the VM ended, with the console tail.
func (v *VM) endErrLocked(doing string) error {
	var why error
	switch {
	case v.reason != nil:
		why = v.reason
	case v.exitErr != nil:
		why = fmt.Errorf("qemu exited: %w", v.exitErr)
	default:
		why = errors.New("qemu exited")
	}
	return fmt.Errorf("%w while %s%s", why, doing, v.tailLocked())
}

// tailLocked formats the last console lines and QEMU's stderr for errors.
func (v *VM) tailLocked() string {
	var b strings.Builder
	b.WriteString("; console tail:")
	for _, l := range v.lines[max(0, len(v.lines)-tailLines):] {
		fmt.Fprintf(&b, "\n  [%8.3fs] %s", l.At.Seconds(), l.Text)
	}
	if v.partial != "" {
		fmt.Fprintf(&b, "\n  (no newline) %s", v.partial)
	}
	if len(v.stderr) > 0 {
		b.WriteString("\nqemu stderr:")
		for _, s := range v.stderr[max(0, len(v.stderr)-tailLines):] {
			b.WriteString("\n  " + s)
		}
	}
	return b.String()
}

// Wait waits for QEMU to end. It returns nil when the guest powered off or
// rebooted (QEMU runs with -no-reboot) and an error, with the console
// tail, when QEMU failed or the harness killed it.
func (v *VM) Wait() error {
	<-v.exited
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.reason == nil && v.exitErr == nil {
		return nil
	}
	return v.endErrLocked("running")
}

// Done is closed when QEMU has ended and its output is all read.
func (v *VM) Done() <-chan struct{} { return v.exited }

// Kill kills QEMU, if it still runs, and waits for it to end, so that
// nothing is logged after Kill returns: register it with t.Cleanup.
func (v *VM) Kill() {
	v.once.Do(func() { close(v.kill) })
	<-v.exited
}

// Send writes s to the serial console's input.
func (v *VM) Send(s string) error {
	if _, err := io.WriteString(v.stdin, s); err != nil {
		return fmt.Errorf("send to console: %w", err)
	}
	return nil
}

// Console returns the whole console output so far, lines joined by \n.
func (v *VM) Console() string { return v.join(func(l Line) string { return l.Text }) }

// RawConsole returns the console so far as the guest wrote it, escape
// sequences and carriage returns included, for byte-exact checks of
// lines that lab software parses.
func (v *VM) RawConsole() string { return v.join(func(l Line) string { return l.Raw }) }

func (v *VM) join(text func(Line) string) string {
	v.mu.Lock()
	defer v.mu.Unlock()
	var b strings.Builder
	for _, l := range v.lines {
		b.WriteString(text(l))
		b.WriteByte('\n')
	}
	b.WriteString(v.partial)
	return b.String()
}

// Lines returns the console lines so far.
func (v *VM) Lines() []Line {
	v.mu.Lock()
	defer v.mu.Unlock()
	return append([]Line(nil), v.lines...)
}

// FirstLine returns the first console line so far that matches re, with
// the time it appeared: for benchmarks, after Expect found it, or for
// checking that a line never appeared, after Wait.
func (v *VM) FirstLine(re string) (Line, bool, error) {
	rx, err := regexp.Compile(re)
	if err != nil {
		return Line{}, false, fmt.Errorf("first line: %w", err)
	}
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, l := range v.lines {
		if rx.MatchString(l.Text) {
			return l, true, nil
		}
	}
	return Line{}, false, nil
}

// Started returns when QEMU was started; Line.At counts from there.
func (v *VM) Started() time.Time { return v.started }

// Cmdline returns QEMU's argv, binary first.
func (v *VM) Cmdline() []string { return append([]string(nil), v.argv...) }

// Accel returns the accelerator QEMU runs with.
func (v *VM) Accel() string { return v.accel }
