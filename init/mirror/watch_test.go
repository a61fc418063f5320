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
	first := false
	for !first {
		os.WriteFile(filepath.Join(dir, "probe"), []byte("x"), 0o644)
		select {
		case <-pushes:
			first = true
		case <-time.After(time.Second):
		}
	}

	sub := filepath.Join(dir, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	<-pushes // the new directories
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
	at := <-pushes
	t.Logf("push %.0f ms after the first write into a new subdirectory", at.Sub(start).Seconds()*1000)
	select {
	case extra := <-pushes:
		t.Errorf("a second push at %v for one burst of writes", extra.Sub(start))
	case <-time.After(time.Second):
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Errorf("Watch returned %v, want context.Canceled", err)
	}
}
