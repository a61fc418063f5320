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
