// Package mounts prepares the file systems the agent and podman need in a
// fresh initramfs: the kernel's virtual file systems, cgroup2, the tmpfs
// mounts podman fails without, and container storage. The setup is data
// (Table), so that it reads as a list and each failure names its entry.
package mounts

import (
	"fmt"
	"path/filepath"
)

// Mount is one mount to make.
type Mount struct {
	Source, Target, Type string
	Flags                uintptr
	Data                 string
	// Optional mounts only warn when they fail: the agent can run without
	// them, if with less (no devpts: no -t containers).
	Optional bool
}

func (m Mount) String() string {
	s := fmt.Sprintf("mount -t %s %s %s", m.Type, m.Source, m.Target)
	if m.Data != "" {
		s += " -o " + m.Data
	}
	return s
}

// Loop mounts a file system image, read-only, through a loop device.
type Loop struct {
	Image, Target, Type string
}

func (l Loop) String() string {
	return fmt.Sprintf("mount -t %s -o loop,ro %s %s", l.Type, l.Image, l.Target)
}

// Dir is a directory to create.
type Dir struct {
	Path string
	Mode uint32
}

func (d Dir) String() string { return fmt.Sprintf("mkdir -m %o %s", d.Mode, d.Path) }

// Symlink is a symbolic link to create.
type Symlink struct {
	Target, Path string
}

func (s Symlink) String() string { return fmt.Sprintf("ln -s %s %s", s.Target, s.Path) }

// Step is a Mount, a Loop, a Dir or a Symlink.
type Step interface{ fmt.Stringer }

// Table returns the setup steps in order, relative to root ("/" in the
// initramfs). storageSize caps the tmpfs of container storage, since a
// tmpfs defaults to half of RAM and the initramfs itself lives in RAM too.
func Table(root, storageSize string) []Step {
	p := func(s string) string { return filepath.Join(root, s) }
	return []Step{
		Dir{p("/proc"), 0o555},
		procMount(p("/proc")),
		Dir{p("/sys"), 0o555},
		Mount{Source: "sysfs", Target: p("/sys"), Type: "sysfs", Flags: nosuid | nodev | noexec},
		Dir{p("/dev"), 0o755},
		devMount(p("/dev")),
		Dir{p("/dev/pts"), 0o755},
		Mount{Source: "devpts", Target: p("/dev/pts"), Type: "devpts", Flags: nosuid | noexec, Data: "gid=5,mode=620,ptmxmode=666", Optional: true},
		Symlink{"/proc/self/fd", p("/dev/fd")},
		Symlink{"pts/ptmx", p("/dev/ptmx")},
		// podman's shm lock manager: "failed to create 2048 locks in /libpod_lock" without it.
		Dir{p("/dev/shm"), 0o1777},
		Mount{Source: "shm", Target: p("/dev/shm"), Type: "tmpfs", Flags: nosuid | nodev, Data: "mode=1777"},
		// crun: "invalid file system type on '/sys/fs/cgroup'" without it.
		Mount{Source: "cgroup2", Target: p("/sys/fs/cgroup"), Type: "cgroup2", Flags: nosuid | nodev | noexec},
		Dir{p("/run"), 0o755},
		Mount{Source: "run", Target: p("/run"), Type: "tmpfs", Flags: nosuid | nodev, Data: "mode=0755"},
		Dir{p("/tmp"), 0o1777},
		Mount{Source: "tmp", Target: p("/tmp"), Type: "tmpfs", Flags: nosuid | nodev, Data: "mode=1777"},
		// podman: "creating a temporary directory: stat /var/tmp" without it.
		Dir{p("/var/tmp"), 0o1777},
		Mount{Source: "vartmp", Target: p("/var/tmp"), Type: "tmpfs", Flags: nosuid | nodev, Data: "mode=1777"},
		// overlayfs works over tmpfs, not over the initramfs' rootfs.
		Dir{p("/var/lib/containers"), 0o700},
		Mount{Source: "containers", Target: p("/var/lib/containers"), Type: "tmpfs", Data: "mode=0700,size=" + storageSize},
		Dir{p("/etc"), 0o755},
	}
}

// The image holds podman's binary, which is the agent too, in a squashfs
// image: the kernel unpacks the initramfs into RAM that it can never
// reclaim, while the pages of a squashfs file are a cache, read (and
// uncompressed) when used and dropped when memory runs short.
const (
	PodmanImage = "/usr/lib/b2c/podman.sqfs"
	PodmanDir   = "/usr/lib/b2c/podman" // where it is mounted
	// PodmanBinary is the binary, which /usr/bin/podman and /bin/init
	// link to. Its name is not podman's: busybox's pidof also matches
	// the name of a process's file, and `pidof podman` must find
	// podman's service, not the agent.
	PodmanBinary = PodmanDir + "/b2c-podman"
	// PodmanURI is the socket of podman's service, which the agent
	// starts, and the agent's CONTAINER_HOST: PID 1 sets it for the
	// agent (see agent.Register), and cannot import the agent.
	PodmanURI = "unix:///run/podman/podman.sock"
)

// Early returns what PID 1 mounts before it starts the agent: podman's
// image, and /proc and /dev, which podman's binary needs before Go starts
// (its C code reads /proc/self/cmdline) and the loop device needs. The
// agent's own setup (Table) finds them mounted already.
func Early() []Step {
	return []Step{
		Dir{"/proc", 0o555},
		procMount("/proc"),
		Dir{"/dev", 0o755},
		devMount("/dev"),
		Dir{PodmanDir, 0o755},
		Loop{Image: PodmanImage, Target: PodmanDir, Type: "squashfs"},
	}
}

// EarlyModules returns the modules Early needs from a modular kernel (a
// distribution's, with its modules appended to the image); b2c's own
// kernel has them built in.
func EarlyModules() []string { return []string{"loop", "squashfs"} }

// EarlyHint says what a kernel needs for Early's squashfs mount.
const EarlyHint = "b2c's image needs squashfs (with zstd) and loop devices: CONFIG_SQUASHFS, CONFIG_SQUASHFS_ZSTD and CONFIG_BLK_DEV_LOOP, built in or as modules appended to the initramfs"

func procMount(dir string) Mount {
	return Mount{Source: "proc", Target: dir, Type: "proc", Flags: nosuid | nodev | noexec}
}

func devMount(dir string) Mount {
	return Mount{Source: "devtmpfs", Target: dir, Type: "devtmpfs", Flags: nosuid, Data: "mode=0755"}
}
