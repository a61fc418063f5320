package modules

import (
	"fmt"
	"os"

	"github.com/u-root/u-root/pkg/kmodule"
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
