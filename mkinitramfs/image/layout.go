package image

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/u-root/mkuimage/cpio"

	"github.com/b2c-dev/b2c/init/mounts"
)

// hostFile is one file of the build machine and its place in the image.
type hostFile struct{ src, dst string }

// String is the "src:dst" form of mkuimage's WithFiles.
func (f hostFile) String() string { return f.src + ":" + f.dst }

// Files returns the host files of cfg in mkuimage's "src:dst" form, dst
// relative to the image's root: podmanImage (podman's squashfs image,
// squash's output), cfg.HostFiles at their own path,
// the files of cfg.Configs in etc/containers and cfg.Modules in
// lib/modules. mkuimage adds the shared libraries of the ELF files itself,
// except with a sysroot: Files adds them, from there.
func Files(cfg Config, podmanImage string) ([]string, error) {
	podman, err := parseHostFile(podmanImage + ":" + strings.TrimPrefix(mounts.PodmanImage, "/"))
	if err != nil {
		return nil, fmt.Errorf("podman's image: %w", err)
	}
	fs := []hostFile{podman}
	for _, f := range cfg.HostFiles {
		hf, err := sysrootFile(cfg.Sysroot, f)
		if err != nil {
			return nil, err
		}
		fs = append(fs, hf)
	}
	confs, err := configFiles(cfg.Configs)
	if err != nil {
		return nil, err
	}
	fs = append(fs, confs...)
	if cfg.Modules != "" {
		st, err := os.Stat(cfg.Modules)
		if err != nil {
			return nil, fmt.Errorf("kernel modules: %w", err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("kernel modules: %s is not a directory", cfg.Modules)
		}
		// The version is the directory's name, whatever its host path:
		// modprobe looks in /lib/modules/$(uname -r).
		fs = append(fs, hostFile{cfg.Modules, "lib/modules/" + filepath.Base(filepath.Clean(cfg.Modules))})
	}
	if cfg.Sysroot != "" {
		arch, err := LookupArch(cfg.Arch)
		if err != nil {
			return nil, err
		}
		libs, err := sysrootLibraries(cfg.Sysroot, arch, fs)
		if err != nil {
			return nil, err
		}
		fs = append(fs, libs...)
	}
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.String()
	}
	return out, nil
}

// sysrootFile parses f as parseHostFile does, taking src from sysroot
// when it has it: the host's files are for the host's architecture. Data
// files (keymaps, certificates) are the host's.
func sysrootFile(sysroot, f string) (hostFile, error) {
	if sysroot == "" {
		return parseHostFile(f)
	}
	src, dst, cut := strings.Cut(f, ":")
	real, ok, err := inSysroot(sysroot, src)
	if err != nil {
		return hostFile{}, err
	}
	if !ok {
		hf, err := parseHostFile(f)
		if err != nil {
			return hostFile{}, fmt.Errorf("%w (nor in sysroot %s)", err, sysroot)
		}
		return hf, nil
	}
	if !cut {
		dst = src
	}
	return hostFile{real, strings.TrimPrefix(filepath.Clean(dst), "/")}, nil
}

// parseHostFile parses "src" (shipped at the same absolute path) or
// "src:dst".
func parseHostFile(s string) (hostFile, error) {
	src, dst, ok := strings.Cut(s, ":")
	if !ok {
		dst = src
	}
	if src == "" || dst == "" {
		return hostFile{}, fmt.Errorf("host file %q: want src or src:dst", s)
	}
	if !ok && !filepath.IsAbs(src) {
		return hostFile{}, fmt.Errorf("host file %q: a file without :dst needs an absolute path", s)
	}
	// mkuimage copies symlinks as symlinks: ship what a link points to,
	// not a link that dangles in the image.
	real, err := filepath.EvalSymlinks(src)
	if err != nil {
		return hostFile{}, fmt.Errorf("host file: %w", err)
	}
	return hostFile{real, strings.TrimPrefix(filepath.Clean(dst), "/")}, nil
}

// configFiles lists the files of dir shipped in etc/containers, sorted.
// Go files are skipped: they are the tests of the configs, not configs.
func configFiles(dir string) ([]hostFile, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("configs: %w", err)
	}
	var fs []hostFile
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, ".go") {
			continue
		}
		fs = append(fs, hostFile{filepath.Join(dir, n), "etc/containers/" + n})
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("configs: no file in %s", dir)
	}
	sort.Slice(fs, func(i, j int) bool { return fs[i].dst < fs[j].dst })
	return fs, nil
}

// Skeleton returns the records that are not host files: the directories
// podman and the mounts need, /dev/console and /etc/b2c.version.
func Skeleton(version string) []cpio.Record {
	return []cpio.Record{
		// The kernel opens /dev/console for /init's stdin, stdout and
		// stderr before /init runs, so before the agent mounts devtmpfs:
		// without this node, early output and Go panics are lost.
		cpio.Directory("dev", 0o755),
		cpio.CharDev("dev/console", 0o600, 5, 1),
		cpio.Directory("proc", 0o555),
		cpio.Directory("sys", 0o555),
		cpio.Directory("run", 0o755),
		cpio.Directory("etc", 0o755),
		cpio.Directory("tmp", 0o1777),
		cpio.Directory("var", 0o755),
		cpio.Directory("var/tmp", 0o1777),
		cpio.Directory("var/lib", 0o755),
		cpio.Directory("var/lib/containers", 0o700),
		cpio.StaticFile("etc/b2c.version", version+"\n", 0o644),
		// Where PID 1 mounts podman's image.
		cpio.Directory("usr", 0o755),
		cpio.Directory("usr/lib", 0o755),
		cpio.Directory("usr/lib/b2c", 0o755),
		cpio.Directory(strings.TrimPrefix(mounts.PodmanDir, "/"), 0o755),
	}
}
