package runargs

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// BootFiles returns the kernel and the initramfs: the flags' files, else
// those of o.Arch (named as `make all` names them in out/) next to the
// b2c binary (in exeDir), else in out/ of the current directory (a b2c
// built with go build in the repository).
func (o Options) BootFiles(exeDir string) (kernel, initramfs string, err error) {
	arch, err := qemu.LookupArch(o.Arch)
	if err != nil {
		return "", "", err
	}
	build := "make all"
	if arch.Name != "amd64" {
		build += " ARCH=" + arch.Name // the Makefile's default is amd64
	}
	kernel, err = find("--kernel", o.Kernel, arch.Kernel, exeDir, build)
	if err != nil {
		return "", "", err
	}
	initramfs, err = find("--initramfs", o.Initramfs, arch.Initramfs(), exeDir, build)
	return kernel, initramfs, err
}

func find(flag, given, base, exeDir, build string) (string, error) {
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
	return "", fmt.Errorf("no %s in %s or %s (%s builds it; or give %s)", base, exeDir, "out/", build, flag)
}

// treeArch is the directory of arch in a kernel tree (Linux's SRCARCH),
// which is also what make's ARCH= takes: Linux names x86_64 "x86".
func treeArch(arch qemu.Arch) string {
	if arch.Name == "amd64" {
		return "x86"
	}
	return arch.Name
}

// TreeKernel is where `make` leaves arch's kernel in a built kernel tree,
// relative to the tree: what --kernel DIR boots.
func TreeKernel(arch qemu.Arch) string {
	return filepath.Join("arch", treeArch(arch), "boot", arch.Kernel)
}

// TreeModulesInstall returns make's arguments that stage the modules of
// the kernel tree dir, built for arch, under root.
func TreeModulesInstall(arch qemu.Arch, dir, root string) []string {
	args := []string{"-C", dir, "-s", "modules_install", "INSTALL_MOD_PATH=" + root}
	if arch.Native() {
		return append(args, "INSTALL_MOD_STRIP=1")
	}
	// A cross-built tree: without ARCH=, make would read it as the
	// host's. The modules stay unstripped: the host's strip cannot read
	// them, and which cross toolchain built them is not known.
	return append(args, "ARCH="+treeArch(arch))
}
