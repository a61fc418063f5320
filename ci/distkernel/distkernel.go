// Package distkernel fetches Debian's own kernel (the package that
// linux-image-amd64 depends on, from this machine's apt sources) and makes
// an archive of some of its modules to append to b2c's initramfs, as labs
// do when they boot b2c with their distribution's kernel.
package distkernel

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"github.com/u-root/u-root/pkg/cpio"
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
// modules named and those they depend on, and the index files of that
// set alone (modules.dep, modules.alias, modules.builtin), as depmod
// would have written them for it.
func (k *Kernel) ModulesArchive(names ...string) ([]byte, error) {
	base := path.Join("lib/modules", k.Release)
	dir := filepath.Join(k.Dir, base)
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
		byName[strings.ReplaceAll(strings.TrimSuffix(path.Base(mod), ".ko"), "-", "_")] = mod
	}
	want := map[string]bool{}
	for _, n := range names {
		p, ok := byName[strings.ReplaceAll(n, "-", "_")]
		if !ok {
			return nil, fmt.Errorf("distkernel: no module %s in %s", n, k.Release)
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
	for _, m := range mods {
		// As depmod writes it: "path:" alone without dependencies
		// (u-root's loader reads a trailing space as one more).
		fmt.Fprintf(&dep, "%s:", m)
		if len(deps[m]) > 0 {
			fmt.Fprintf(&dep, " %s", strings.Join(deps[m], " "))
		}
		dep.WriteString("\n")
	}
	names2 := map[string]bool{}
	for _, m := range mods {
		names2[strings.ReplaceAll(strings.TrimSuffix(path.Base(m), ".ko"), "-", "_")] = true
	}
	af, err := os.Open(filepath.Join(dir, "modules.alias"))
	if err != nil {
		return nil, err
	}
	defer af.Close()
	sc := bufio.NewScanner(af)
	for sc.Scan() {
		if f := strings.Fields(sc.Text()); len(f) == 3 && f[0] == "alias" && names2[f[2]] {
			fmt.Fprintln(&alias, sc.Text())
		}
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
