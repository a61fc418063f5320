// Package kmods makes the archive of a kernel's modules that is appended
// to b2c's initramfs when b2c boots another kernel than its own (a
// distribution's, a developer's tree): lib/modules/RELEASE as `make
// modules_install` lays it out, which the kernel unpacks over the
// initramfs and the agent's coldplug loads from (docs/cmdline.md,
// b2c.insmods).
package kmods

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
)

// Release returns the one release staged under root/lib/modules.
func Release(root string) (string, error) {
	dirs, err := filepath.Glob(filepath.Join(root, "lib/modules/*/modules.dep"))
	if err != nil || len(dirs) != 1 {
		return "", fmt.Errorf("modules under %s: want one lib/modules/RELEASE with its modules.dep (make modules_install INSTALL_MOD_PATH=%s), found %d", root, root, len(dirs))
	}
	return filepath.Base(filepath.Dir(dirs[0])), nil
}

// name is a module's name from its path: dashes and underscores are
// the same to the kernel.
func name(p string) string {
	base := path.Base(p)
	for _, ext := range []string{".ko", ".ko.xz", ".ko.gz", ".ko.zst"} {
		base = strings.TrimSuffix(base, ext)
	}
	return strings.ReplaceAll(base, "-", "_")
}

// Archive returns a newc archive of root/lib/modules/release: the modules
// named and those they depend on (no names: all of them), and the index
// files of that set alone (modules.dep, modules.alias, modules.builtin),
// as depmod would have written them for it.
func Archive(root, release string, names ...string) ([]byte, error) {
	base := path.Join("lib/modules", release)
	dir := filepath.Join(root, base)
	depFile, err := os.ReadFile(filepath.Join(dir, "modules.dep"))
	if err != nil {
		return nil, err
	}
	deps := map[string][]string{} // module path -> its dependencies' paths
	byName := map[string]string{} // name -> path
	for _, line := range strings.Split(string(depFile), "\n") {
		mod, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		deps[mod] = strings.Fields(rest)
		byName[name(mod)] = mod
	}
	want := map[string]bool{}
	if len(names) == 0 {
		for p := range deps {
			want[p] = true
		}
	}
	for _, n := range names {
		p, ok := byName[name(n)]
		if !ok {
			return nil, fmt.Errorf("no module %s in %s", n, dir)
		}
		want[p] = true
		for _, d := range deps[p] {
			want[d] = true
		}
	}
	var mods []string
	for p := range want {
		mods = append(mods, p)
	}
	slices.Sort(mods)

	var dep, alias bytes.Buffer
	included := map[string]bool{}
	for _, m := range mods {
		// As depmod writes it: "path:" alone without dependencies
		// (u-root's loader reads a trailing space as one more).
		fmt.Fprintf(&dep, "%s:", m)
		if len(deps[m]) > 0 {
			fmt.Fprintf(&dep, " %s", strings.Join(deps[m], " "))
		}
		dep.WriteString("\n")
		included[name(m)] = true
	}
	if af, err := os.Open(filepath.Join(dir, "modules.alias")); err == nil {
		sc := bufio.NewScanner(af)
		for sc.Scan() {
			if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "alias" && included[strings.ReplaceAll(f[2], "-", "_")] {
				fmt.Fprintln(&alias, sc.Text())
			}
		}
		af.Close()
	}
	builtin, err := os.ReadFile(filepath.Join(dir, "modules.builtin"))
	if err != nil {
		return nil, err
	}

	records := []cpio.Record{cpio.Directory("lib", 0o755), cpio.Directory("lib/modules", 0o755), cpio.Directory(base, 0o755)}
	dirs := map[string]bool{}
	for _, m := range mods {
		for d := path.Dir(m); d != "." && !dirs[d]; d = path.Dir(d) {
			dirs[d] = true
		}
	}
	var dl []string
	for d := range dirs {
		dl = append(dl, d)
	}
	slices.Sort(dl) // parents first
	for _, d := range dl {
		records = append(records, cpio.Directory(path.Join(base, d), 0o755))
	}
	for _, m := range mods {
		b, err := os.ReadFile(filepath.Join(dir, m))
		if err != nil {
			return nil, err
		}
		records = append(records, cpio.StaticFile(path.Join(base, m), string(b), 0o644))
	}
	records = append(records,
		cpio.StaticFile(path.Join(base, "modules.dep"), dep.String(), 0o644),
		cpio.StaticFile(path.Join(base, "modules.alias"), alias.String(), 0o644),
		cpio.StaticFile(path.Join(base, "modules.builtin"), string(builtin), 0o644),
	)
	var out bytes.Buffer
	w := cpio.Newc.Writer(&out)
	if err := cpio.WriteRecords(w, records); err != nil {
		return nil, err
	}
	if err := cpio.WriteTrailer(w); err != nil {
		return nil, err
	}
	return out.Bytes(), nil
}

// Append writes to dst the initramfs followed by archive, each starting on
// a 4-byte boundary as the kernel wants.
func Append(dst, initramfs string, archive []byte) error {
	base, err := os.ReadFile(initramfs)
	if err != nil {
		return err
	}
	buf := bytes.NewBuffer(base)
	for buf.Len()%4 != 0 {
		buf.WriteByte(0)
	}
	buf.Write(archive)
	return os.WriteFile(dst, buf.Bytes(), 0o644)
}
