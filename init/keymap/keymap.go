// Package keymap finds the console keymap b2c.keymap names among the
// keymaps shipped in the image (Debian's console-data), for loadkeys.
package keymap

import (
	"errors"
	"fmt"
	"io/fs"
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
