package fscrypt

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// ext4 mounts a fresh ext4 with the encrypt feature from a loop device.
// It needs root; as root, any failure to set it up fails the test.
func ext4(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to mount a loop device")
	}
	img := filepath.Join(t.TempDir(), "fs.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 32<<20); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mke2fs", "-q", "-F", "-t", "ext4", "-O", "encrypt", img).CombinedOutput(); err != nil {
		t.Fatalf("mke2fs: %v: %s", err, out)
	}
	mnt := t.TempDir()
	if out, err := exec.Command("mount", "-o", "loop", img, mnt).CombinedOutput(); err != nil {
		t.Fatalf("mount: %v: %s", err, out)
	}
	t.Cleanup(func() { unix.Unmount(mnt, 0) })
	return mnt
}

// key returns a 64-byte key, the size of b2c's (cmdline.FscryptKey).
func key(b byte) []byte { return bytes.Repeat([]byte{b}, 64) }

func TestSetup(t *testing.T) {
	mnt := ext4(t)
	dir := filepath.Join(mnt, "vol")
	id, created, err := Setup(mnt, dir, key(1), false)
	if err != nil || !created {
		t.Fatalf("Setup of a new directory: created %v, %v", created, err)
	}
	if err := os.WriteFile(filepath.Join(dir, "secret.txt"), []byte("the data"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, enc, err := Policy(dir); err != nil || !enc || got != id {
		t.Fatalf("Policy = %s, %v, %v; want %s, encrypted", got, enc, err, id)
	}
	if again, created, err := Setup(mnt, dir, key(1), false); err != nil || again != id || created {
		t.Fatalf("Setup with the same key: %s, created %v, %v; want %s, unlocked", again, created, err, id)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "secret.txt")); err != nil || string(b) != "the data" {
		t.Fatalf("unlocked read: %q, %v", b, err)
	}
	if _, _, err := Setup(mnt, dir, key(2), false); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("Setup with another key: %v, want ErrWrongKey", err)
	}

	// Without the key, neither the name nor the bytes are readable.
	if err := RemoveKey(mnt, id); err != nil {
		t.Fatal(err)
	}
	unix.Sync()
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("2"), 0)
	names, err := os.ReadDir(dir)
	if err != nil || len(names) != 1 {
		t.Fatalf("locked directory: %v, %v; want one entry", names, err)
	}
	if names[0].Name() == "secret.txt" {
		t.Errorf("locked directory shows the clear name")
	}
	if b, err := os.ReadFile(filepath.Join(dir, names[0].Name())); err == nil {
		t.Errorf("locked file read: %q", b)
	} else {
		t.Logf("locked: name %q, read: %v", names[0].Name(), err)
	}

	// reset wipes it and encrypts it with the new key.
	id2, created, err := Setup(mnt, dir, key(2), true)
	if err != nil || !created {
		t.Fatalf("Setup with reset: created %v, %v", created, err)
	}
	if got, enc, _ := Policy(dir); !enc || got != id2 || id2 == id {
		t.Errorf("after reset: policy %s (encrypted %v), want the new key %s", got, enc, id2)
	}
	if names, _ := os.ReadDir(dir); len(names) != 0 {
		t.Errorf("after reset: %d entries, want none", len(names))
	}

	clearDir := filepath.Join(mnt, "clear")
	os.Mkdir(clearDir, 0o755)
	os.WriteFile(filepath.Join(clearDir, "f"), nil, 0o644)
	if _, _, err := Setup(mnt, clearDir, key(1), false); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("Setup on a directory of clear files: %v, want ErrNotEmpty", err)
	}
	if _, err := AddKey(mnt, []byte("short")); err == nil {
		t.Errorf("AddKey took a 5-byte key")
	}
}
