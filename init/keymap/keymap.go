// Package keymap finds the console keymap b2c.keymap names among the
// keymaps shipped in the image (Debian's console-data) and loads it with
// loadkeys.
package keymap

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os/exec"
	"path/filepath"
	"strings"
)

// Dir is where the image keeps the keymaps.
const Dir = "/usr/share/keymaps"

// Find returns the path of the keymap called name under dir, searching
// every layout family (qwerty, azerty, ...).
func Find(dir, name string) (string, error) {
	if name == "" || strings.ContainsAny(name, "/") {
		return "", fmt.Errorf("keymap %q: not a keymap name", name)
	}
	var found string
	errFound := errors.New("found")
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		base := d.Name()
		for _, ext := range []string{".kmap.gz", ".kmap", ".map.gz", ".map"} {
			if base == name+ext {
				found = path
				return errFound
			}
		}
		return nil
	})
	if found != "" {
		return found, nil
	}
	if err != nil && !errors.Is(err, errFound) {
		return "", fmt.Errorf("keymap %s: %w", name, err)
	}
	return "", fmt.Errorf("keymap %s: not among the keymaps of %s", name, dir)
}

// Load finds the keymap called name under dir and loads it on the console
// with loadkeys, whose output goes to out. run runs the command and
// returns its exit code: in PID 1, the reaper's, which must see every
// child exit.
func Load(ctx context.Context, dir, name string, run func(context.Context, *exec.Cmd) (int, error), out io.Writer) error {
	path, err := Find(dir, name)
	if err != nil {
		return err
	}
	cmd := exec.Command("/usr/bin/loadkeys", "-q", "-C", "/dev/tty0", path)
	cmd.Stdout, cmd.Stderr = out, out
	code, err := run(ctx, cmd)
	if err == nil && code != 0 {
		err = fmt.Errorf("loadkeys %s: exit %d", path, code)
	}
	return err
}
