package modules

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/kmodule"
	"golang.org/x/sys/unix"
)

// System returns the loader of the running kernel.
func System() Loader {
	return Loader{
		ByName: func(name string) error { return kmodule.Probe(name, "") },
		ByPath: func(path string) error {
			f, err := os.Open(path)
			if err != nil {
				return err
			}
			defer f.Close()
			if err := kmodule.FileInit(f, "", 0); err != nil {
				return fmt.Errorf("finit_module: %w", err)
			}
			return nil
		},
	}
}

// Modaliases returns the modalias of every device under sys (/sys).
func Modaliases(sys string) []string {
	var out []string
	seen := map[string]bool{}
	filepath.WalkDir(filepath.Join(sys, "devices"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() != "modalias" {
			return nil
		}
		b, err := os.ReadFile(p)
		if s := strings.TrimSpace(string(b)); err == nil && s != "" && !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
		return nil
	})
	return out
}

// KernelAliases returns the running kernel's modules.alias, or nil for a
// kernel without modules (b2c's own).
func KernelAliases() ([]Alias, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	f, err := os.Open(filepath.Join("/lib/modules", unix.ByteSliceToString(u.Release[:]), "modules.alias"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return ParseAliases(f)
}
