package reaper

import (
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// zombies lists the zombie children of this process.
func zombies(t *testing.T) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	me := strconv.Itoa(os.Getpid())
	var z []string
	for _, e := range entries {
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(f) > 1 && f[0] == "Z" && f[1] == me {
			z = append(z, s)
		}
	}
	return z
}

func TestReapsOrphansAndReportsExit(t *testing.T) {
	// As PID 1 does, become the parent of orphaned grandchildren.
	if err := unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0); err != nil {
		t.Fatalf("PR_SET_CHILD_SUBREAPER: %v", err)
	}
	defer unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 0, 0, 0, 0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := New()
	go r.Run(ctx)

	code, err := r.RunCmd(ctx, exec.Command("sh", "-c", "sleep 0.2 & exit 7"))
	if err != nil || code != 7 {
		t.Fatalf("RunCmd = %d, %v; want 7", code, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for r.Orphans() < 1 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := r.Orphans(); n < 1 {
		t.Errorf("Orphans() = %d, want the orphaned sleep reaped", n)
	}
	if z := zombies(t); len(z) != 0 {
		t.Errorf("zombies left: %q", z)
	}
}

func TestRunCmdCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	r := New()
	go r.Run(ctx)
	cctx, ccancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer ccancel()
	if _, err := r.RunCmd(cctx, exec.Command("sleep", "60")); err == nil {
		t.Error("RunCmd of sleep 60 with a 100ms context returned no error")
	}
	cancel()
}
