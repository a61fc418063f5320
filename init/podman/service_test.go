package podman

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestServiceStart(t *testing.T) {
	dir := t.TempDir()
	var got *exec.Cmd
	s := &Service{URI: "unix://" + dir + "/podman/podman.sock", Log: filepath.Join(dir, "podman.log"),
		Spawn: func(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
			got = cmd
			return nil, errors.New("no podman here")
		}}
	if err := s.Start([]string{"HTTPS_PROXY=http://proxy.lab:3128"}); err == nil || err.Error() != "no podman here" {
		t.Fatalf("Start() = %v, want the spawn's error", err)
	}
	if want := []string{"/usr/bin/podman", "system", "service", "--time=0", s.URI}; !reflect.DeepEqual(got.Args, want) {
		t.Errorf("Start ran %q, want %q", got.Args, want)
	}
	if want := []string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "HTTPS_PROXY=http://proxy.lab:3128"}; !reflect.DeepEqual(got.Env, want) {
		t.Errorf("Start's environment = %q, want %q", got.Env, want)
	}
	if got.SysProcAttr == nil || !got.SysProcAttr.Setpgid {
		t.Errorf("Start: the service is not in a process group of its own, Stop would miss its children")
	}
	if _, err := os.Stat(filepath.Join(dir, "podman")); err != nil {
		t.Errorf("Start did not make the socket's directory: %v", err)
	}
	// It did not start: Stop must not signal anything (pid 0 is our own
	// process group).
	s.Stop(time.Millisecond)
}

// spawnInstead returns a Spawn that runs script with sh instead of podman,
// with podman's process attributes and output, and a channel that gets the
// script's exit status too.
func spawnInstead(t *testing.T, script string) (func(*exec.Cmd) (<-chan unix.WaitStatus, error), <-chan unix.WaitStatus) {
	ended := make(chan unix.WaitStatus, 1)
	return func(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh")
		}
		cmd.Path, cmd.Args = sh, []string{"sh", "-c", script}
		if err := cmd.Start(); err != nil {
			return nil, err
		}
		done := make(chan unix.WaitStatus, 1)
		go func() {
			cmd.Wait()
			ws := unix.WaitStatus(cmd.ProcessState.Sys().(syscall.WaitStatus))
			done <- ws
			ended <- ws
		}()
		return done, nil
	}, ended
}

// waitFor waits until the file at path holds want.
func waitFor(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return
		}
	}
	t.Fatalf("%s never got %q", path, want)
}

func TestServiceStop(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		grace        time.Duration
		wantSignal   unix.Signal
	}{
		{"stops on SIGTERM", "echo ready; sleep 60", 10 * time.Second, unix.SIGTERM},
		{"killed after the grace", `trap "" TERM; echo ready; sleep 60; sleep 60`, 200 * time.Millisecond, unix.SIGKILL},
	} {
		dir := t.TempDir()
		spawn, ended := spawnInstead(t, tt.script)
		s := &Service{URI: "unix://" + dir + "/podman.sock", Log: filepath.Join(dir, "podman.log"), Spawn: spawn}
		if err := s.Start(nil); err != nil {
			t.Fatalf("%s: Start() = %v", tt.name, err)
		}
		waitFor(t, s.Log, "ready") // the trap is set
		start := time.Now()
		s.Stop(tt.grace)
		if took := time.Since(start); took > 5*time.Second || took < tt.grace && tt.wantSignal == unix.SIGKILL {
			t.Errorf("%s: Stop took %s with a grace of %s", tt.name, took, tt.grace)
		}
		select {
		case ws := <-ended:
			if !ws.Signaled() || ws.Signal() != tt.wantSignal {
				t.Errorf("%s: the service ended with %v, want killed by %v", tt.name, ws, tt.wantSignal)
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: the service still runs after Stop", tt.name)
		}
		if s.done != nil {
			t.Errorf("%s: Stop left the service marked running", tt.name)
		}
	}
}

func TestServiceTail(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name, log string
		n         int
		want      string
	}{
		{"short", "Error: no storage\n", 10, "Error: no storage"},
		{"the last lines", "a\nb\nc\nd\n", 2, "c | d"},
		{"blank lines at the end", "a\nb\n\n\n", 10, "a | b"},
	} {
		s := &Service{Log: filepath.Join(dir, tt.name)}
		if err := os.WriteFile(s.Log, []byte(tt.log), 0o644); err != nil {
			t.Fatal(err)
		}
		if got := s.Tail(tt.n); got != tt.want {
			t.Errorf("%s: Tail(%d) = %q, want %q", tt.name, tt.n, got, tt.want)
		}
	}
	s := &Service{Log: filepath.Join(dir, "absent")}
	if got := s.Tail(10); !strings.Contains(got, "no such file") {
		t.Errorf("Tail(10) of a missing log = %q, want why it cannot be read", got)
	}
}
