// Package reaper waits for every child of PID 1: the agent's own, whose
// exit it reports to whoever started them, and the orphans the kernel
// re-parents to PID 1 (conmon double-forks, containers leave daemons),
// which it only reaps so that they never stay zombies.
//
// Once a Reaper runs, processes must be started through it: a plain
// exec.Cmd.Wait would race with the reaper for the exit status.
package reaper

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"sync"

	"golang.org/x/sys/unix"
)

// Reaper reaps children. The zero value is not usable: call New.
type Reaper struct {
	mu      sync.Mutex
	waiting map[int]chan unix.WaitStatus
	reaped  int // orphans reaped, for diagnostics and tests
}

// New returns a reaper; call Run to start reaping.
func New() *Reaper {
	return &Reaper{waiting: map[int]chan unix.WaitStatus{}}
}

// Run reaps children on every SIGCHLD until ctx ends.
func (r *Reaper) Run(ctx context.Context) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGCHLD)
	defer signal.Stop(sig)
	r.reap()
	for {
		select {
		case <-ctx.Done():
			return
		case <-sig:
			r.reap()
		}
	}
}

func (r *Reaper) reap() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for {
		var ws unix.WaitStatus
		pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
		if err == unix.EINTR {
			continue
		}
		if pid <= 0 || err != nil {
			return
		}
		if ch, ok := r.waiting[pid]; ok {
			ch <- ws
			delete(r.waiting, pid)
		} else {
			r.reaped++
		}
	}
}

// Orphans returns how many children it reaped that nobody waited for.
func (r *Reaper) Orphans() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.reaped
}

// Start starts cmd and returns a channel that receives its exit status.
// The lock is held across the start so that a child that exits at once
// cannot be reaped before it is registered.
func (r *Reaper) Start(cmd *exec.Cmd) (<-chan unix.WaitStatus, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	ch := make(chan unix.WaitStatus, 1)
	r.waiting[cmd.Process.Pid] = ch
	return ch, nil
}

// RunCmd starts cmd and waits for it to exit or ctx to end (then it kills
// cmd). It returns the exit code, or -1 with an error.
func (r *Reaper) RunCmd(ctx context.Context, cmd *exec.Cmd) (int, error) {
	ch, err := r.Start(cmd)
	if err != nil {
		return -1, err
	}
	select {
	case ws := <-ch:
		return ws.ExitStatus(), nil
	case <-ctx.Done():
		cmd.Process.Kill()
		<-ch
		return -1, fmt.Errorf("%s: %w", cmd.Path, ctx.Err())
	}
}
