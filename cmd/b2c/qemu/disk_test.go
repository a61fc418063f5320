package qemu

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestCreateDisk(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cache.img")
	made, err := CreateDisk(p, 1<<30)
	if err != nil || !made {
		t.Fatalf("CreateDisk = %v, %v; want true, nil", made, err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() != 1<<30 {
		t.Errorf("size %d, want 1 GiB", fi.Size())
	}
	if blocks := fi.Sys().(*syscall.Stat_t).Blocks; blocks != 0 {
		t.Errorf("%d blocks allocated, want a sparse file", blocks)
	}
	if err := os.WriteFile(p, []byte("kept"), 0o644); err != nil {
		t.Fatal(err)
	}
	made, err = CreateDisk(p, 1<<30)
	if b, _ := os.ReadFile(p); err != nil || made || string(b) != "kept" {
		t.Errorf("CreateDisk on an existing disk = %v, %v, content %q; want it kept", made, err, b)
	}
	if _, err := CreateDisk(filepath.Join(p, "sub"), 1); err == nil {
		t.Errorf("CreateDisk under a file: no error")
	}
}
