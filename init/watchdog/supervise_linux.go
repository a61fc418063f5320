package watchdog

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/reaper"
)

// Open prints the run's first lines (KernelSection's end, SetupSection's
// header) on the consoles of the command line, as the agent would, and
// returns a console for PID 1's own lines and the uptime it printed them
// at. PID 1 prints them as soon as it runs: the agent, podman's 50 MB
// binary, takes seconds to start on a slow machine (its packages'
// initialisation), and labs time the kernel's boot by its section, which
// the first line closes. The agent carries on inside SetupSection.
func Open() (*console.Console, time.Duration) {
	opened := console.Uptime()
	// Bounded as endRun's: nothing supervises PID 1, and a console held
	// by flow control must not keep the agent from starting.
	con := console.New(&boundedWriter{w: consoles(), d: 5 * time.Second}, console.Uptime, time.Now)
	con.SectionEnd(KernelSection)
	con.SectionStart(SetupSection, SetupHeader, true)
	return con, opened
}

// Supervise runs agent as PID 1's only child, watches it, and ends the run
// when it overstays a step or dies. opened is when Open printed the run's
// first lines, which the agent then does not print. It never returns.
func Supervise(agent string, opened time.Duration) {
	st := NewState(time.Now())
	r, w, err := os.Pipe()
	if err != nil {
		endRun(st, fmt.Sprintf("b2c's watchdog: %v", err))
	}
	rp := reaper.New()
	go rp.Run(context.Background())
	cmd := exec.Command(agent)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	cmd.ExtraFiles = []*os.File{w}
	cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%d", EnvFD, 3), fmt.Sprintf("%s=%d", EnvOpened, opened))
	exited, err := rp.Start(cmd)
	w.Close()
	if err != nil {
		endRun(st, fmt.Sprintf("b2c's watchdog: %v", err))
	}
	lines := make(chan string)
	go func() {
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	tick := time.NewTicker(time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				lines = nil // the agent closed the pipe: it is dying
				continue
			}
			if err := st.Apply(l, time.Now()); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		case ws := <-exited:
			// What the agent said last counts.
			drain(lines, st)
			endRun(st, st.Died(describe(ws)))
		case now := <-tick.C:
			if msg := st.Overdue(now); msg != "" {
				endRun(st, msg)
			}
		}
	}
}

// drain applies what is left in the pipe, for at most a second.
func drain(lines <-chan string, st *State) {
	if lines == nil {
		return
	}
	timeout := time.After(time.Second)
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				return
			}
			st.Apply(l, time.Now())
		case <-timeout:
			return
		}
	}
}

func describe(ws unix.WaitStatus) string {
	if ws.Signaled() {
		return "killed by " + ws.Signal().String()
	}
	return fmt.Sprintf("exit status %d", ws.ExitStatus())
}

// endRun ends the run in place of the agent, which may be blocked
// anywhere: every step is bounded, as a write to a console held by flow
// control or a sync on a dead NFS server can block.
func endRun(st *State, msg string) {
	con := console.New(&boundedWriter{w: consoles(), d: 5 * time.Second}, console.Uptime, time.Now)
	con.Errorf("%s", msg)
	// The agent, podman, the containers: nothing else may write to the
	// cache or the consoles now.
	unix.Kill(-1, unix.SIGKILL)
	bounded(30*time.Second, unix.Sync)
	bounded(10*time.Second, detachMounts)
	bounded(10*time.Second, unix.Sync)
	if !st.Ended {
		con.End(st.Code, st.Reboot)
	}
	how := unix.LINUX_REBOOT_CMD_POWER_OFF
	if st.Reboot {
		how = unix.LINUX_REBOOT_CMD_RESTART
	}
	unix.Reboot(how)
	for {
		time.Sleep(time.Hour)
	}
}

// consoles opens the consoles of the command line, as the agent does, or
// falls back to PID 1's own output.
func consoles() io.Writer {
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return os.Stdout
	}
	w, _, err := console.Open("/dev", cmdline.Parse(string(raw)).Config.Consoles)
	if err != nil {
		return os.Stdout
	}
	return w
}

// bounded runs fn and gives up waiting for it after d.
func bounded(d time.Duration, fn func()) {
	done := make(chan struct{})
	go func() {
		fn()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// detachMounts lazily unmounts every file system but the kernel's own,
// deepest first: the cache's journal is then closed as soon as the last
// reference goes, which the kill of every process made immediate.
func detachMounts() {
	raw, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	var points []string
	for _, line := range strings.Split(string(raw), "\n") {
		f := strings.Fields(line)
		if len(f) < 5 {
			continue
		}
		p := f[4]
		if p == "/" || under(p, "/proc") || under(p, "/sys") || under(p, "/dev") {
			continue
		}
		points = append(points, p)
	}
	sort.Sort(sort.Reverse(sort.StringSlice(points)))
	for _, p := range points {
		unix.Unmount(p, unix.MNT_DETACH)
	}
}

func under(p, dir string) bool { return p == dir || strings.HasPrefix(p, dir+"/") }

// boundedWriter gives up on a write that takes longer than d.
type boundedWriter struct {
	w io.Writer
	d time.Duration
}

var errStuck = errors.New("console write timed out")

func (b *boundedWriter) Write(p []byte) (int, error) {
	type result struct {
		n   int
		err error
	}
	done := make(chan result, 1)
	p = append([]byte(nil), p...)
	go func() {
		n, err := b.w.Write(p)
		done <- result{n, err}
	}()
	select {
	case r := <-done:
		return r.n, r.err
	case <-time.After(b.d):
		return 0, errStuck
	}
}
