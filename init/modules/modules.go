// Package modules loads the kernel modules b2c.insmods names, early in the
// boot: by name through modules.dep, or from a path. Our kernel has what
// b2c needs built in, so this serves distribution kernels and the odd
// driver a lab needs.
package modules

import (
	"fmt"
	"strings"
)

// Loader loads one module: by name (modprobe-like, with its dependencies)
// or from a file.
type Loader struct {
	ByName func(name string) error
	ByPath func(path string) error
}

// Load loads every module in order and returns one error per failure; a
// failed module does not stop the others.
func (l Loader) Load(mods []string) []error {
	var errs []error
	for _, m := range mods {
		var err error
		if strings.Contains(m, "/") {
			err = l.ByPath(m)
		} else {
			err = l.ByName(m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("load module %s: %w", m, err))
		}
	}
	return errs
}
