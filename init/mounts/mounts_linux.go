package mounts

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

const (
	nosuid = unix.MS_NOSUID
	nodev  = unix.MS_NODEV
	noexec = unix.MS_NOEXEC
)

// Apply runs the steps in order. A failed optional mount is returned in
// warnings; any other failure stops the setup and is returned as err.
func Apply(steps []Step) (warnings []error, err error) {
	for _, s := range steps {
		var e error
		switch s := s.(type) {
		case Dir:
			e = os.MkdirAll(s.Path, os.FileMode(s.Mode))
		case Symlink:
			e = os.Symlink(s.Target, s.Path)
			if errors.Is(e, os.ErrExist) {
				e = nil
			}
		case Mount:
			if e = os.MkdirAll(s.Target, 0o755); e == nil && !mounted(s.Target) {
				e = unix.Mount(s.Source, s.Target, s.Type, s.Flags, s.Data)
			}
			// The kernel may have mounted devtmpfs already
			// (CONFIG_DEVTMPFS_MOUNT): that is the state we want.
			if errors.Is(e, unix.EBUSY) {
				e = nil
			}
			if e != nil && s.Optional {
				warnings = append(warnings, fmt.Errorf("%v: %w", s, e))
				continue
			}
		case Loop:
			if !mounted(s.Target) {
				e = loopMount(s)
			}
		}
		if e != nil {
			return warnings, fmt.Errorf("%v: %w", s, e)
		}
	}
	return warnings, nil
}

// mounted says whether dir is a mount point already (PID 1 mounts /proc
// before it starts the agent): its device is not its parent's. Mounting
// proc or a tmpfs again would stack a second one over it.
func mounted(dir string) bool {
	var st, parent unix.Stat_t
	if unix.Stat(dir, &st) != nil || unix.Stat(filepath.Join(dir, ".."), &parent) != nil {
		return false
	}
	return st.Dev != parent.Dev
}

// loopMount mounts s.Image read-only through a free loop device, which
// the kernel frees (autoclear) if the mount goes.
func loopMount(s Loop) error {
	img, err := os.Open(s.Image)
	if err != nil {
		return err
	}
	defer img.Close()
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return err
	}
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	ctl.Close()
	if err != nil {
		return fmt.Errorf("find a free loop device: %w", err)
	}
	dev := fmt.Sprintf("/dev/loop%d", n)
	loop, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer loop.Close()
	cfg := unix.LoopConfig{Fd: uint32(img.Fd())}
	cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
	if err := unix.IoctlLoopConfigure(int(loop.Fd()), &cfg); err != nil {
		return fmt.Errorf("%s: %w", dev, err)
	}
	return unix.Mount(dev, s.Target, s.Type, unix.MS_RDONLY, "")
}
