package vm

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// kernel returns the repository's kernel; a test without it fails, never
// skips (make e2e builds it before the tests).
func kernel(t *testing.T) string {
	t.Helper()
	k, err := filepath.Abs(filepath.Join("..", "..", "out", "bzImage"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(k); err != nil {
		t.Fatalf("no kernel: %v (make e2e builds it first; alone: make kernel)", err)
	}
	return k
}

// TestBootWithoutInitramfs boots the real kernel alone: it must print its
// banner, panic for want of a root filesystem and, with panic=-1 and
// -no-reboot, end QEMU cleanly.
func TestBootWithoutInitramfs(t *testing.T) {
	v, err := Start(t.Context(), Kernel(kernel(t)), NoNIC(), Memory(256), Timeout(2*time.Minute), Log(TestLog(t)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Kill)
	if _, err := v.Expect(`\] Linux version `); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Expect(`Kernel panic - not syncing`); err != nil {
		t.Fatal(err)
	}
	if err := v.Wait(); err != nil {
		t.Fatal(err)
	}
	l, _, _ := v.FirstLine(`Kernel panic`)
	t.Logf("accel %s: kernel panic %v after QEMU start", v.Accel(), l.At)
}
