package image

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Arch is an architecture the image is built for.
type Arch struct {
	GOARCH  string      // Go's name, in the image's file name: amd64, arm64
	Triplet string      // Debian's multiarch directory: x86_64-linux-gnu
	Machine elf.Machine // of every executable and library in the image
}

// arches are the architectures b2c builds images for.
var arches = []Arch{
	{"amd64", "x86_64-linux-gnu", elf.EM_X86_64},
	{"arm64", "aarch64-linux-gnu", elf.EM_AARCH64},
}

// LookupArch returns the Arch of a GOARCH name.
func LookupArch(goarch string) (Arch, error) {
	var names []string
	for _, a := range arches {
		if a.GOARCH == goarch {
			return a, nil
		}
		names = append(names, a.GOARCH)
	}
	return Arch{}, fmt.Errorf("architecture %q: want one of %s", goarch, strings.Join(names, ", "))
}

// LibDirs are the directories glibc's ld.so searches on Debian without an
// ld.so.cache, which the image does not have.
func (a Arch) LibDirs() []string {
	return []string{"lib/" + a.Triplet, "usr/lib/" + a.Triplet, "lib64", "usr/lib64", "lib", "usr/lib"}
}

// inSysroot finds the absolute path p of the target system in sysroot,
// the files of Debian's packages for a foreign architecture: at p, else
// at its other name on a system merged into /usr (/sbin/blkid and
// /usr/sbin/blkid). It returns the file the path's symlinks lead to,
// which must stay in sysroot, and false when p is not there.
func inSysroot(sysroot, p string) (string, bool, error) {
	alts := []string{p}
	for _, d := range []string{"/bin/", "/sbin/", "/lib/"} {
		if strings.HasPrefix(p, d) {
			alts = append(alts, "/usr"+p)
		} else if strings.HasPrefix(p, "/usr"+d) {
			alts = append(alts, strings.TrimPrefix(p, "/usr"))
		}
	}
	for _, alt := range alts {
		full := filepath.Join(sysroot, alt)
		if _, err := os.Lstat(full); err != nil {
			continue
		}
		real, err := filepath.EvalSymlinks(full)
		if err != nil {
			return "", false, fmt.Errorf("sysroot %s: %w", alt, err)
		}
		root, err := filepath.EvalSymlinks(sysroot)
		if err != nil {
			return "", false, fmt.Errorf("sysroot: %w", err)
		}
		if rel, err := filepath.Rel(root, real); err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			return "", false, fmt.Errorf("sysroot %s: leads out of %s, to %s", alt, sysroot, real)
		}
		return real, true, nil
	}
	return "", false, nil
}

// sysrootLibraries returns the program interpreters and shared libraries
// that the ELF files of fs need, taken from sysroot and placed where ld.so
// looks for them: what mkuimage does with ldd for the host's own
// architecture, which a foreign architecture's ld.so cannot do here.
func sysrootLibraries(sysroot string, a Arch, fs []hostFile) ([]hostFile, error) {
	var (
		out   []hostFile
		seen  = map[string]bool{}
		queue []hostFile
	)
	for _, f := range fs {
		seen[f.dst] = true
		queue = append(queue, f)
	}
	add := func(dst string) error {
		if seen[dst] {
			return nil
		}
		real, ok, err := inSysroot(sysroot, "/"+dst)
		if err != nil || !ok {
			return err
		}
		seen[dst] = true
		f := hostFile{real, dst}
		out = append(out, f)
		queue = append(queue, f)
		return nil
	}
	for len(queue) > 0 {
		f := queue[0]
		queue = queue[1:]
		e, err := readELFFile(f.src)
		if err != nil {
			return nil, err
		}
		if e.Interp != "" {
			if err := add(strings.TrimPrefix(e.Interp, "/")); err != nil {
				return nil, err
			}
		}
	needed:
		for _, so := range e.Needed {
			for _, d := range a.LibDirs() {
				if seen[filepath.Join(d, so)] {
					continue needed
				}
			}
			for _, d := range a.LibDirs() {
				n := len(out)
				if err := add(filepath.Join(d, so)); err != nil {
					return nil, err
				}
				if len(out) > n {
					continue needed
				}
			}
			// Left for Index.Check, which names every missing one.
		}
	}
	return out, nil
}

// readELFFile reads the dynamic linking of a host file; directories and
// files that are not ELF give an empty Entry.
func readELFFile(p string) (Entry, error) {
	var e Entry
	st, err := os.Stat(p)
	if err != nil {
		return e, err
	}
	if !st.Mode().IsRegular() {
		return e, nil
	}
	f, err := os.Open(p)
	if err != nil {
		return e, err
	}
	defer f.Close()
	if err := e.readELF(f); err != nil {
		return e, fmt.Errorf("%s: %w", p, err)
	}
	return e, nil
}
