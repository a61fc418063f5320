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
	loop, err := freeLoop()
	if err != nil {
		return err
	}
	defer loop.Close()
	if err := loopAttach(int(loop.Fd()), int(img.Fd()), configure); err != nil {
		return fmt.Errorf("%s: %w", loop.Name(), err)
	}
	return unix.Mount(loop.Name(), s.Target, s.Type, unix.MS_RDONLY, "")
}

// freeLoop opens a free loop device, read-only.
func freeLoop() (*os.File, error) {
	ctl, err := os.OpenFile("/dev/loop-control", os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	n, err := unix.IoctlRetInt(int(ctl.Fd()), unix.LOOP_CTL_GET_FREE)
	ctl.Close()
	if err != nil {
		return nil, fmt.Errorf("find a free loop device: %w", err)
	}
	return os.OpenFile(fmt.Sprintf("/dev/loop%d", n), os.O_RDONLY, 0)
}

// loopAttach backs the loop device lfd with the file ffd, read-only (the
// file is open read-only) and freed with its last user. configure is
// LOOP_CONFIGURE, which does it in one step since Linux 5.8; older
// kernels answer EINVAL or ENOTTY, and get the two steps it replaced.
func loopAttach(lfd, ffd int, configure func(lfd int, cfg *unix.LoopConfig) error) error {
	cfg := unix.LoopConfig{Fd: uint32(ffd)}
	cfg.Info.Flags = unix.LO_FLAGS_READ_ONLY | unix.LO_FLAGS_AUTOCLEAR
	err := configure(lfd, &cfg)
	if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOTTY) {
		return err
	}
	if err := unix.IoctlSetInt(lfd, unix.LOOP_SET_FD, ffd); err != nil {
		return fmt.Errorf("LOOP_SET_FD: %w", err)
	}
	info := unix.LoopInfo64{Flags: unix.LO_FLAGS_AUTOCLEAR}
	if err := unix.IoctlLoopSetStatus64(lfd, &info); err != nil {
		unix.IoctlSetInt(lfd, unix.LOOP_CLR_FD, 0)
		return fmt.Errorf("LOOP_SET_STATUS64: %w", err)
	}
	return nil
}

func configure(lfd int, cfg *unix.LoopConfig) error { return unix.IoctlLoopConfigure(lfd, cfg) }
