// Package distkernel fetches Debian's own kernel (the package that
// linux-image-amd64 depends on, from this machine's apt sources) and makes
// an archive of some of its modules to append to b2c's initramfs, as labs
// do when they boot b2c with their distribution's kernel.
package distkernel

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"

	"github.com/b2c-dev/b2c/cmd/b2c/kmods"
)

// Kernel is an unpacked kernel package.
type Kernel struct {
	Dir     string // the package's files
	Release string // uname -r
	Image   string // its bzImage
}

// Fetch downloads and unpacks the kernel package into cacheDir (once per
// package version) and runs depmod on its modules, as the package's own
// scripts would.
func Fetch(ctx context.Context, cacheDir string) (*Kernel, error) {
	pkg, err := output(ctx, "", "sh", "-c", "apt-cache depends linux-image-amd64 | sed -n 's/^ *Depends: //p' | head -1")
	if err != nil || !strings.HasPrefix(pkg, "linux-image-") {
		return nil, fmt.Errorf("distkernel: the package of linux-image-amd64: %q, %v", pkg, err)
	}
	version, err := output(ctx, "", "sh", "-c", "apt-cache show --no-all-versions "+pkg+" | sed -n 's/^Version: //p'")
	if err != nil || version == "" {
		return nil, fmt.Errorf("distkernel: the version of %s: %q, %v", pkg, version, err)
	}
	release := strings.TrimPrefix(pkg, "linux-image-")
	dir := filepath.Join(cacheDir, pkg+"_"+version)
	k := &Kernel{Dir: dir, Release: release, Image: filepath.Join(dir, "boot", "vmlinuz-"+release)}
	if _, err := os.Stat(filepath.Join(dir, ".done")); err == nil {
		return k, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp(cacheDir, ".tmp-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	if _, err := output(ctx, tmp, "apt-get", "download", "-q", pkg); err != nil {
		return nil, fmt.Errorf("distkernel: apt-get download %s: %w", pkg, err)
	}
	debs, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(debs) != 1 {
		return nil, fmt.Errorf("distkernel: apt-get download %s left %d packages", pkg, len(debs))
	}
	root := filepath.Join(tmp, "root")
	if _, err := output(ctx, "", "dpkg-deb", "-x", debs[0], root); err != nil {
		return nil, err
	}
	if _, err := output(ctx, "", "depmod", "-b", root, release); err != nil {
		return nil, fmt.Errorf("distkernel: depmod (apt-get install kmod): %w", err)
	}
	if err := os.WriteFile(filepath.Join(root, ".done"), nil, 0o644); err != nil {
		return nil, err
	}
	os.RemoveAll(dir)
	if err := os.Rename(root, dir); err != nil {
		return nil, err
	}
	return k, nil
}

func output(ctx context.Context, dir, name string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	}
	return strings.TrimSpace(string(out)), nil
}

// ModulesArchive returns a newc archive of lib/modules/RELEASE with the
// modules named and those they depend on (kmods.Archive).
func (k *Kernel) ModulesArchive(names ...string) ([]byte, error) {
	return kmods.Archive(k.Dir, k.Release, names...)
}

// Tree lays out in dir what a kernel developer's tree holds after a
// build and `make modules_install INSTALL_MOD_PATH=dir`: the kernel at
// arch/x86/boot/bzImage and, under lib/modules/RELEASE, the modules named
// and those they depend on, with their index files.
func (k *Kernel) Tree(dir string, names ...string) error {
	archive, err := k.ModulesArchive(names...)
	if err != nil {
		return err
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(archive)))
	if err != nil {
		return err
	}
	for _, r := range recs {
		p := filepath.Join(dir, r.Name)
		switch r.Mode & cpio.S_IFMT {
		case cpio.S_IFDIR:
			err = os.MkdirAll(p, 0o755)
		case cpio.S_IFREG:
			var b []byte
			if b, err = io.ReadAll(io.NewSectionReader(r, 0, int64(r.FileSize))); err == nil {
				err = os.WriteFile(p, b, 0o644)
			}
		}
		if err != nil {
			return err
		}
	}
	img, err := os.ReadFile(k.Image)
	if err != nil {
		return err
	}
	boot := filepath.Join(dir, "arch/x86/boot")
	if err := os.MkdirAll(boot, 0o755); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(boot, "bzImage"), img, 0o644)
}
