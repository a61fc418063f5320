package mounts

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestTableNeeds(t *testing.T) {
	// What podman was seen to fail without, in an initramfs.
	var got []string
	for _, s := range Table("/", "1g") {
		got = append(got, s.String())
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{
		"mount -t proc proc /proc",
		"mount -t tmpfs shm /dev/shm",
		"mount -t cgroup2 cgroup2 /sys/fs/cgroup",
		"mount -t tmpfs vartmp /var/tmp",
		"mount -t tmpfs containers /var/lib/containers -o mode=0700,size=1g",
	} {
		if !strings.Contains(all, want) {
			t.Errorf("Table lacks %q:\n%s", want, all)
		}
	}
	// /proc before anything under it, /dev before /dev/shm.
	if strings.Index(all, "/proc ") > strings.Index(all, "/dev/shm") {
		t.Errorf("Table mounts /dev/shm before /proc:\n%s", all)
	}
}

func TestApplyDirsAndLinks(t *testing.T) {
	root := t.TempDir()
	steps := []Step{Dir{filepath.Join(root, "a/b"), 0o755}, Symlink{"b", filepath.Join(root, "a/c")}, Symlink{"b", filepath.Join(root, "a/c")}}
	if _, err := Apply(steps); err != nil {
		t.Fatalf("Apply = %v", err)
	}
	if l, err := os.Readlink(filepath.Join(root, "a/c")); err != nil || l != "b" {
		t.Errorf("link = %q, %v; want b", l, err)
	}
}

func TestApplyNamesFailedStep(t *testing.T) {
	if os.Geteuid() == 0 {
		// Root can mount: use a type that does not exist instead.
		_, err := Apply([]Step{Mount{Source: "x", Target: t.TempDir(), Type: "nosuchfs"}})
		if err == nil || !strings.Contains(err.Error(), "mount -t nosuchfs") {
			t.Errorf("Apply = %v, want an error naming the mount", err)
		}
		return
	}
	_, err := Apply([]Step{Mount{Source: "tmp", Target: t.TempDir(), Type: "tmpfs"}})
	if err == nil || !strings.Contains(err.Error(), "mount -t tmpfs") {
		t.Errorf("Apply = %v, want an error naming the mount", err)
	}
}

func TestApplyOptionalWarns(t *testing.T) {
	w, err := Apply([]Step{Mount{Source: "x", Target: t.TempDir(), Type: "nosuchfs", Optional: true}})
	if err != nil || len(w) != 1 {
		t.Errorf("Apply = %v, %v; want one warning and no error", w, err)
	}
}

// TestMounted: /proc is a mount point on any Linux machine the tests run
// on; a new directory is not.
func TestMounted(t *testing.T) {
	for dir, want := range map[string]bool{"/proc": true, t.TempDir(): false} {
		if got := mounted(dir); got != want {
			t.Errorf("mounted(%s) = %v, want %v", dir, got, want)
		}
	}
}

// TestEarly: PID 1 mounts /proc and /dev before podman's image, whose loop
// device is in /dev; the agent's Table mounts /proc and /dev the same way.
func TestEarly(t *testing.T) {
	var order []string
	for _, s := range Early() {
		switch s := s.(type) {
		case Mount:
			order = append(order, s.Target)
		case Loop:
			order = append(order, s.Target)
			if s.Image != PodmanImage || s.Type != "squashfs" {
				t.Errorf("Early: %v, want podman's squashfs image", s)
			}
		}
	}
	if want := []string{"/proc", "/dev", PodmanDir}; strings.Join(order, " ") != strings.Join(want, " ") {
		t.Errorf("Early mounts %v, want %v", order, want)
	}
	table := map[string]Mount{}
	for _, s := range Table("/", "80%") {
		if m, ok := s.(Mount); ok {
			table[m.Target] = m
		}
	}
	for _, s := range Early() {
		if m, ok := s.(Mount); ok && table[m.Target] != m {
			t.Errorf("Early mounts %v, Table %v", m, table[m.Target])
		}
	}
}

// TestLoopAttach backs a loop device with a file, with LOOP_CONFIGURE and
// with the two ioctls that kernels before 5.8 need instead, and reads the
// result back from sysfs. It needs root and loop devices: `make test`
// runs as root.
func TestLoopAttach(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root")
	}
	img := filepath.Join(t.TempDir(), "img")
	if err := os.WriteFile(img, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	tooOld := func(int, *unix.LoopConfig) error { return unix.ENOTTY }
	for name, configure := range map[string]func(int, *unix.LoopConfig) error{"LOOP_CONFIGURE": configure, "before 5.8": tooOld} {
		t.Run(name, func(t *testing.T) {
			f, err := os.Open(img)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			loop, err := freeLoop()
			if err != nil {
				t.Fatal(err)
			}
			defer loop.Close()
			if err := loopAttach(int(loop.Fd()), int(f.Fd()), configure); err != nil {
				t.Fatal(err)
			}
			defer unix.IoctlSetInt(int(loop.Fd()), unix.LOOP_CLR_FD, 0)
			sys := filepath.Join("/sys/block", filepath.Base(loop.Name()))
			for file, want := range map[string]string{"loop/backing_file": img, "ro": "1", "loop/autoclear": "1"} {
				got, err := os.ReadFile(filepath.Join(sys, file))
				if err != nil || strings.TrimSpace(string(got)) != want {
					t.Errorf("%s/%s = %q (%v), want %q", sys, file, got, err, want)
				}
			}
		})
	}
}
