package podman

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Service is podman's API service, `podman system service`, that the
// engine talks to. The zero state is stopped.
type Service struct {
	URI string // where it listens: unix:///run/podman/podman.sock
	Log string // the file of its output, read back when it does not answer
	// Spawn starts a command and returns a channel that receives its exit
	// status: in PID 1, the reaper's, which must see every child exit.
	Spawn func(*exec.Cmd) (<-chan unix.WaitStatus, error)

	pid  int // the service's process group
	done <-chan unix.WaitStatus
}

// Start starts the service with env added to its environment (the
// proxy's variables: the service reads them once, when it starts).
func (s *Service) Start(env []string) error {
	if err := os.MkdirAll(filepath.Dir(s.socket()), 0o700); err != nil {
		return err
	}
	logf, err := os.Create(s.Log)
	if err != nil {
		return err
	}
	// The service has its own copy of the file once it started.
	defer logf.Close()
	cmd := exec.Command("/usr/bin/podman", "system", "service", "--time=0", s.URI)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, env...)
	// Its own process group, so that Stop reaches the conmon and
	// container processes it leaves behind.
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	done, err := s.Spawn(cmd)
	if err == nil {
		s.pid, s.done = cmd.Process.Pid, done
	}
	return err
}

// PID returns the service's process ID, or 0 when it is not running.
func (s *Service) PID() int { return s.pid }

// Stop stops the service and its children, which keep files open on the
// cache: gently, then by force after grace. It does nothing when the
// service is not running.
func (s *Service) Stop(grace time.Duration) {
	if s.done == nil {
		return
	}
	unix.Kill(-s.pid, unix.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(grace):
		unix.Kill(-s.pid, unix.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(grace):
		}
	}
	s.pid, s.done = 0, nil
}

// Tail returns the last n lines of the service's log, joined with " | "
// for one console line, or why it cannot be read.
func (s *Service) Tail(n int) string {
	b, err := os.ReadFile(s.Log)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

func (s *Service) socket() string { return strings.TrimPrefix(s.URI, "unix://") }
