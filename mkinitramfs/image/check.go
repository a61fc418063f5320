package image

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"

	"github.com/u-root/mkuimage/cpio"
)

// Index describes the records of an archive, by path relative to its root,
// enough to check that its programs can run: mkuimage resolves the shared
// libraries of host files with ldd but only logs a warning when that fails,
// and a missing library shows up at boot as "crun: not found".
type Index map[string]Entry

// Entry is one record of an Index.
type Entry struct {
	Mode    uint64      // cpio mode, type bits included
	Machine elf.Machine // of an ELF executable or shared library
	Link    string      // symlink target
	Interp  string      // ELF program interpreter, absolute
	Needed  []string    // ELF DT_NEEDED sonames
	RunPath []string    // ELF DT_RUNPATH and DT_RPATH directories
}

// Add records r. It reads the ELF headers of regular files, not their
// contents.
func (ix Index) Add(r cpio.Record) error {
	name := cpio.Normalize(r.Name)
	e := Entry{Mode: r.Mode}
	switch r.Mode & cpio.S_IFMT {
	case cpio.S_IFLNK:
		b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
		if err != nil {
			return fmt.Errorf("index %s: %w", name, err)
		}
		e.Link = string(b)
	case cpio.S_IFREG:
		if r.ReaderAt != nil && r.FileSize > 4 {
			if err := e.readELF(r.ReaderAt); err != nil {
				return fmt.Errorf("index %s: %w", name, err)
			}
		}
	}
	ix[name] = e
	return nil
}

// AddFile records the file at src as name, as if it were in the archive:
// podman's binary, which the archive holds in a squashfs image.
func (ix Index) AddFile(name, src string) error {
	f, err := os.Open(src)
	if err != nil {
		return err
	}
	defer f.Close()
	e := Entry{Mode: cpio.S_IFREG | 0o755}
	if err := e.readELF(f); err != nil {
		return fmt.Errorf("index %s: %w", src, err)
	}
	ix[cpio.Normalize(name)] = e
	return nil
}

// readELF fills in the dynamic linking of an executable or shared library;
// it leaves e alone for other files, kernel modules (ET_REL) included.
func (e *Entry) readELF(r io.ReaderAt) error {
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil || string(magic[:]) != elf.ELFMAG {
		return nil //nolint:nilerr // a short or unreadable header is not an ELF
	}
	f, err := elf.NewFile(r)
	if err != nil {
		return err
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return nil
	}
	e.Machine = f.Machine
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			b, err := io.ReadAll(p.Open())
			if err != nil {
				return err
			}
			e.Interp = strings.TrimRight(string(b), "\x00")
		}
	}
	if e.Needed, err = f.DynString(elf.DT_NEEDED); err != nil {
		return err
	}
	for _, tag := range []elf.DynTag{elf.DT_RUNPATH, elf.DT_RPATH} {
		ps, err := f.DynString(tag)
		if err != nil {
			return err
		}
		for _, p := range ps {
			e.RunPath = append(e.RunPath, strings.Split(p, ":")...)
		}
	}
	return nil
}

// maxLinks bounds symlink chains, as the kernel does (ELOOP).
const maxLinks = 40

// Resolve follows the symlinks of p, of its directories too, inside the
// archive (an absolute target is relative to the archive's root, as it is
// once booted) and returns the path it ends at and its entry.
func (ix Index) Resolve(p string) (string, Entry, bool) {
	parts := splitPath(p)
	cur := ""
	for links := 0; len(parts) > 0; {
		next := path.Join(cur, parts[0])
		parts = parts[1:]
		e, ok := ix[next]
		if !ok {
			return "", Entry{}, false
		}
		if e.Mode&cpio.S_IFMT != cpio.S_IFLNK {
			cur = next
			continue
		}
		if links++; links > maxLinks {
			return "", Entry{}, false
		}
		target := e.Link
		if !path.IsAbs(target) {
			target = path.Join("/", cur, target)
		}
		parts = append(splitPath(target), parts...)
		cur = ""
	}
	if cur == "" {
		cur = "." // the root, as cpio names it
	}
	e, ok := ix[cur]
	return cur, e, ok
}

// splitPath splits p into its components relative to the root; ".."
// does not climb above it.
func splitPath(p string) []string {
	p = strings.TrimPrefix(path.Clean("/"+p), "/")
	if p == "" {
		return nil
	}
	return strings.Split(p, "/")
}

// Check returns an error naming every path of required that is not a
// regular file once symlinks are followed, every program interpreter
// and shared library an ELF file of the archive needs and lacks, and
// every executable or library built for another machine than a's.
func (ix Index) Check(a Arch, required []string) error {
	var problems []string
	isFile := func(p string) bool {
		_, e, ok := ix.Resolve(p)
		return ok && e.Mode&cpio.S_IFMT == cpio.S_IFREG
	}
	for _, p := range required {
		if !isFile(p) {
			problems = append(problems, fmt.Sprintf("/%s is missing", cpio.Normalize(p)))
		}
	}
	for name, e := range ix {
		if e.Machine != 0 && e.Machine != a.Machine {
			problems = append(problems, fmt.Sprintf("/%s: built for %v, not %s", name, e.Machine, a.GOARCH))
		}
		if e.Interp != "" && !isFile(e.Interp) {
			problems = append(problems, fmt.Sprintf("/%s: interpreter %s is missing", name, e.Interp))
		}
		for _, so := range e.Needed {
			if !ix.findLib(a, name, e, so, isFile) {
				problems = append(problems, fmt.Sprintf("/%s: shared library %s is missing", name, so))
			}
		}
	}
	if len(problems) == 0 {
		return nil
	}
	sort.Strings(problems)
	return fmt.Errorf("incomplete image:\n\t%s", strings.Join(problems, "\n\t"))
}

// findLib reports whether the ELF file name finds the library so the way
// ld.so would: a soname with a slash is a path, others are searched in the
// run path ($ORIGIN expanded) then in the default directories.
func (ix Index) findLib(a Arch, name string, e Entry, so string, isFile func(string) bool) bool {
	if strings.Contains(so, "/") {
		return isFile(so)
	}
	dirs := make([]string, 0, len(e.RunPath)+len(a.LibDirs()))
	for _, d := range e.RunPath {
		d = strings.ReplaceAll(d, "${ORIGIN}", "$ORIGIN")
		dirs = append(dirs, strings.ReplaceAll(d, "$ORIGIN", "/"+path.Dir(name)))
	}
	for _, d := range append(dirs, a.LibDirs()...) {
		if isFile(path.Join(d, so)) {
			return true
		}
	}
	return false
}
