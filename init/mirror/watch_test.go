package mirror

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// TestWatch: a file written in a new subdirectory triggers a push, and a
// burst of writes is one push, not one per write.
func TestWatch(t *testing.T) {
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pushes := make(chan time.Time, 100)
	done := make(chan error)
	go func() {
		done <- Watch(ctx, dir, Debounce{Quiet: time.Second, Max: time.Minute}, func(context.Context) { pushes <- time.Now() })
	}()
	// The watch starts asynchronously: poke until the first push shows it
	// is listening.
	giveUp := time.After(deadline)
	for first := false; !first; {
		os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o644)
		select {
		case <-pushes:
			first = true
		case <-time.After(time.Second):
		case <-giveUp:
			t.Fatalf("no push %v after the watch started", deadline)
		}
	}

	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	wait(t, pushes, "the new directories")
	f, err := os.Create(filepath.Join(sub, "out.txt"))
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	for i := 0; i < 5; i++ {
		f.WriteString("line\n")
		time.Sleep(20 * time.Millisecond)
	}
	f.Close()
	at := wait(t, pushes, "the burst of writes")
	t.Logf("push %.0f ms after the first write into a new subdirectory", at.Sub(start).Seconds()*1000)
	select {
	case extra := <-pushes:
		t.Errorf("a second push at %v for one burst of writes", extra.Sub(start))
	case <-time.After(time.Second):
	}
	cancel()
	select {
	case err := <-done:
		if err != context.Canceled {
			t.Errorf("Watch returned %v, want context.Canceled", err)
		}
	case <-time.After(deadline):
		t.Fatalf("Watch did not return %v after its context was canceled", deadline)
	}
}

// deadline bounds every wait of the watch tests: long enough for a loaded
// machine, not a measure of speed, only so that a lost push fails the test
// instead of hanging it.
const deadline = 30 * time.Second

// wait returns the next push, or fails the test after the deadline.
func wait(t *testing.T, pushes <-chan time.Time, what string) time.Time {
	t.Helper()
	select {
	case at := <-pushes:
		return at
	case <-time.After(deadline):
		t.Fatalf("no push for %s after %v", what, deadline)
		return time.Time{}
	}
}
