package runargs

import (
	"fmt"
	"os"
	"path/filepath"
)

// The names `make all` gives the kernel and the initramfs in out/.
const (
	KernelName    = "bzImage"
	InitramfsName = "initramfs.linux_amd64.cpio.zst"
)

// BootFiles returns the kernel and the initramfs: the flags' files, else
// the ones next to the b2c binary (in exeDir), else the ones in out/ of
// the current directory (a b2c built with go build in the repository).
func (o Options) BootFiles(exeDir string) (kernel, initramfs string, err error) {
	kernel, err = find("--kernel", o.Kernel, KernelName, exeDir)
	if err != nil {
		return "", "", err
	}
	initramfs, err = find("--initramfs", o.Initramfs, InitramfsName, exeDir)
	return kernel, initramfs, err
}

func find(flag, given, base, exeDir string) (string, error) {
	if given != "" {
		if _, err := os.Stat(given); err != nil {
			return "", fmt.Errorf("%s: %w", flag, err)
		}
		return filepath.Abs(given)
	}
	tried := []string{filepath.Join(exeDir, base), filepath.Join("out", base)}
	for _, p := range tried {
		if _, err := os.Stat(p); err == nil {
			return filepath.Abs(p)
		}
	}
	return "", fmt.Errorf("no %s in %s or %s (make all builds it; or give %s)", base, exeDir, "out/", flag)
}
