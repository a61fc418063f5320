// Package watchdog bounds the boot agent from outside it. PID 1 is a small
// supervisor (init/pid1) that starts the agent as its child and reads, on a
// pipe, which step the agent is in, how long that step may go without
// progress and how long it may last. When a step overstays its bound, or
// when the agent dies (a panic in any goroutine, a fatal runtime error, a
// signal, the OOM killer), the supervisor ends the run itself: one ERROR
// line naming the step, every other process killed, the file systems
// synced and detached, the end lines, and a power off. The agent may be
// blocked anywhere: the supervisor never waits on it.
//
// The bounds of each step are documented in docs/cmdline.md ("Bounds").
package watchdog

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// EnvFD names the environment variable that tells the agent which of its
// file descriptors is the pipe to the supervisor.
const EnvFD = "B2C_WATCHDOG_FD"

// EnvOpened names the environment variable in which PID 1 tells the agent
// the uptime, in nanoseconds, at which it printed the run's first lines
// (Open).
const EnvOpened = "B2C_OPENED"

// The run's first lines: the end of the section that labs open before the
// kernel boots, and the header of b2c's first section. PID 1 prints them
// (Open); an agent that runs without PID 1's supervisor prints them
// itself.
const (
	KernelSection = "b2c_kernel_boot"
	SetupSection  = "b2c_setup"
	SetupHeader   = "Setting up the machine"
)

// Opened returns the uptime at which PID 1 printed the run's first lines,
// from the environment, or false when it did not.
func Opened() (time.Duration, bool) {
	ns, err := strconv.ParseInt(os.Getenv(EnvOpened), 10, 64)
	os.Unsetenv(EnvOpened) // children (podman, containers) must not inherit it
	if err != nil || ns <= 0 {
		return 0, false
	}
	return time.Duration(ns), true
}

// Grace is what a container gets past b2c.timeout to be stopped.
const Grace = 2 * time.Minute

// Bounds returns how long the step of a console section may go without
// progress (idle) and how long it may last (total); 0 is no bound. A
// container runs as long as b2c.timeout (timeout, 0 without) allows, and
// while podman's service answers. Between sections ("") the agent does
// only quick work.
func Bounds(section string, timeout time.Duration) (idle, total time.Duration) {
	switch section {
	case "b2c_setup", "runtime_info", "set_hostname", "b2c_post_container":
		return 0, time.Minute
	case "load_modules", "set_keymap", "ntp_set":
		return 0, 2 * time.Minute
	case "connect", "parse_extra_cmdline", "start_pipeline", "cleanup", "unmount_cache_partition":
		return 0, 5 * time.Minute
	case "mount_cache_partition":
		// e2fsck of a large cache, or mkfs of a new one.
		return 0, 30 * time.Minute
	case "create_container", "start_service_container", "execute_hooks":
		// Pulls and transfers: as long as bytes move.
		return 2 * time.Minute, 0
	case "container_run":
		if timeout > 0 {
			return 2 * time.Minute, timeout + Grace
		}
		return 2 * time.Minute, 0
	}
	return 0, 2 * time.Minute
}

// Reporter is the agent's side of the pipe. A nil Reporter (an agent that
// is PID 1 itself, without a supervisor) reports nothing.
type Reporter struct {
	mu      sync.Mutex
	w       io.Writer
	section string
	timeout time.Duration
}

// NewReporter returns a reporter writing to w.
func NewReporter(w io.Writer) *Reporter { return &Reporter{w: w, section: "start"} }

// FromEnv returns the reporter to the supervisor that started this
// process, or nil when there is none.
func FromEnv() *Reporter {
	fd, err := strconv.Atoi(os.Getenv(EnvFD))
	if err != nil || fd < 3 {
		return nil
	}
	os.Unsetenv(EnvFD) // children (podman, containers) must not inherit it
	return NewReporter(os.NewFile(uintptr(fd), "watchdog"))
}

func (r *Reporter) send(format string, args ...any) {
	// A failed write means the supervisor is gone, and with it the
	// machine: nothing to do.
	fmt.Fprintf(r.w, format+"\n", args...)
}

// SetTimeout sets b2c.timeout, which bounds each container's run.
func (r *Reporter) SetTimeout(d time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.timeout = d
}

// Section says that the console section name started, or, with "", that
// the last one ended. It is the console's watch function.
func (r *Reporter) Section(name string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	step := name
	switch {
	case name == "" && r.section == "start": // the first line, before any section
		step = "start"
	case name == "":
		step = "after " + r.section
	default:
		r.section = name
	}
	idle, total := Bounds(name, r.timeout)
	r.send("step %d %d %s", idle.Milliseconds(), total.Milliseconds(), step)
	if name == "" {
		r.section = step
	}
}

// Kick reports progress of the step, if the step is still section: a
// transfer that moved bytes, a podman service that answered.
func (r *Reporter) Kick(section string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.section == section {
		r.send("kick")
	}
}

// KickCurrent reports progress of whatever step the agent is in: a pull
// try that failed and is retried (a registry that refuses, or drops the
// connection, makes the retries end; one that stalls makes none).
func (r *Reporter) KickCurrent() {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.send("kick")
}

// Current returns the section the agent is in.
func (r *Reporter) Current() string {
	if r == nil {
		return ""
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.section
}

// Status reports the pipeline's final status, which the supervisor prints
// if it has to end the run after the pipeline.
func (r *Reporter) Status(code int, reboot bool) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.send("status %d %t", code, reboot)
}

// Abort asks the supervisor to end the run with the ERROR msg: the agent
// knows that the run cannot go on (a server its storage needs is gone),
// and may itself be blocked by that loss at any moment.
func (r *Reporter) Abort(msg string) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.send("abort %s", strings.ReplaceAll(msg, "\n", " "))
}

// Ended says that the end lines are out and the agent is shutting down,
// for at most bound: past it, the supervisor powers off without printing
// the end lines again.
func (r *Reporter) Ended(bound time.Duration) {
	if r == nil {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.section = "shutdown"
	r.send("ended %d", bound.Milliseconds())
}

// State is the supervisor's view of the agent.
type State struct {
	Step        string
	Idle, Total time.Duration // 0: unbounded
	started     time.Time
	progress    time.Time

	Code   int  // the status the end lines give
	Final  bool // Code is the pipeline's, not a failure of the agent
	Reboot bool
	Ended  bool // the agent printed the end lines itself
	// Aborted is the ERROR of an agent that asked to end the run.
	Aborted string
}

// NewState returns the state of an agent started at now: it has a minute
// to open the consoles and report its first step.
func NewState(now time.Time) *State {
	return &State{Step: "start", Total: time.Minute, started: now, progress: now, Code: 1}
}

// Apply reads one line from the agent.
func (s *State) Apply(line string, now time.Time) error {
	f := strings.Fields(line)
	if len(f) == 0 {
		return nil
	}
	bad := fmt.Errorf("watchdog: bad message %q", line)
	ms := func(v string) (time.Duration, bool) {
		n, err := strconv.ParseInt(v, 10, 64)
		return time.Duration(n) * time.Millisecond, err == nil && n >= 0
	}
	switch f[0] {
	case "step":
		if len(f) < 4 {
			return bad
		}
		idle, ok1 := ms(f[1])
		total, ok2 := ms(f[2])
		if !ok1 || !ok2 {
			return bad
		}
		s.Step = strings.Join(f[3:], " ")
		s.Idle, s.Total, s.started, s.progress = idle, total, now, now
	case "kick":
		s.progress = now
	case "status":
		if len(f) != 3 {
			return bad
		}
		code, err := strconv.Atoi(f[1])
		if err != nil {
			return bad
		}
		s.Code, s.Final, s.Reboot = code, true, f[2] == "true"
	case "ended":
		if len(f) != 2 {
			return bad
		}
		bound, ok := ms(f[1])
		if !ok {
			return bad
		}
		s.Step, s.Idle, s.Total, s.started, s.Ended = "shutdown", 0, bound, now, true
	case "abort":
		if len(f) < 2 || s.Ended {
			return bad
		}
		s.Aborted = strings.TrimSpace(strings.TrimPrefix(line, "abort"))
	default:
		return bad
	}
	return nil
}

// Overdue returns the ERROR message when the step overstayed a bound at
// now, or when the agent asked to end the run, or "".
func (s *State) Overdue(now time.Time) string {
	switch {
	case s.Aborted != "":
		return s.Aborted
	case s.Total > 0 && now.Sub(s.started) >= s.Total:
		return fmt.Sprintf("b2c's watchdog: the step %q did not end within %s, ending the run", s.Step, s.Total)
	case s.Idle > 0 && now.Sub(s.progress) >= s.Idle:
		return fmt.Sprintf("b2c's watchdog: the step %q made no progress for %s, ending the run", s.Step, s.Idle)
	}
	return ""
}

// Died returns the ERROR message for an agent that exited with how.
func (s *State) Died(how string) string {
	return fmt.Sprintf("b2c's agent died (%s) during the step %q, ending the run", how, s.Step)
}

// NetBytes returns the bytes received and sent by every interface but the
// loopback, from the contents of /proc/net/dev: the progress of a pull or
// a transfer, whichever process makes it (podman's service pulls, the
// agent transfers).
func NetBytes(procNetDev string) uint64 {
	var total uint64
	for _, line := range strings.Split(procNetDev, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || strings.TrimSpace(name) == "lo" {
			continue
		}
		f := strings.Fields(rest)
		if len(f) < 9 {
			continue
		}
		rx, err1 := strconv.ParseUint(f[0], 10, 64)
		tx, err2 := strconv.ParseUint(f[8], 10, 64)
		if err1 == nil && err2 == nil {
			total += rx + tx
		}
	}
	return total
}

// IOBytes returns the bytes a process read and wrote, from the contents of
// its /proc/PID/io: podman's service extracting a large layer moves no
// network bytes for a while, and makes progress all the same.
func IOBytes(procPidIO string) uint64 {
	var total uint64
	for _, line := range strings.Split(procPidIO, "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok || k != "rchar" && k != "wchar" {
			continue
		}
		if n, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err == nil {
			total += n
		}
	}
	return total
}
