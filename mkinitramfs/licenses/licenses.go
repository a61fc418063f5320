// Package licenses writes, beside a release, the licence texts of
// everything an initramfs contains and where the source of each part
// comes from, as a distribution of GPL binaries must:
//
//   - Go programs (the agent, podman, u-root's tools): the licence files of
//     every module their build information lists, and Go's own;
//   - files of Debian packages (crun, conmon, busybox, e2fsprogs, their
//     shared libraries, keymaps): each package's copyright file, its
//     version and its source package;
//   - extra Debian packages the release is built from (the kernel's
//     linux-source-6.1);
//   - the rest is b2c's own (configs, generated files).
//
// It reads the archive itself, not the list it was built from, so what it
// lists is what ships: the squashfs images in it too (podman's), with
// unsquashfs.
package licenses

import (
	"bytes"
	"context"
	"debug/buildinfo"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/klauspost/compress/zstd"
	"github.com/u-root/mkuimage/cpio"
	"golang.org/x/mod/module"
)

// Config says where to look.
type Config struct {
	ModCache string   // Go's module cache (go env GOMODCACHE)
	GoRoot   string   // the toolchain that built the Go programs (go env GOROOT)
	DocDir   string   // Debian's /usr/share/doc
	Own      string   // b2c's own licence file
	Extra    []string // Debian packages the release holds outside the archive (linux-source-6.1)
	// Generated maps files that no package owns, because a package's
	// script makes them at install time, to that package (archive path →
	// package): /etc/ssl/certs/ca-certificates.crt, from ca-certificates.
	Generated map[string]string
	// Dpkg runs dpkg-query with args and returns its standard output; a
	// path no package owns is left out of the output, not an error.
	Dpkg func(ctx context.Context, args ...string) ([]byte, error)
}

// Module is one Go module linked into a program.
type Module struct{ Path, Version string }

// Package is one Debian binary package with files in the archive.
type Package struct {
	Name, Version, Source, SourceVersion string
	Files                                []string // its files in the archive
}

// Inventory is what an archive holds, by origin.
type Inventory struct {
	GoVersion string
	Programs  map[string][]Module // Go program (archive path) → modules
	Packages  []Package
	Own       []string // files of no Debian package and no Go program
}

// licenceName matches the names under which projects keep licence texts.
var licenceName = regexp.MustCompile(`(?i)^(licen[cs]e|copying|notice|patents|unlicense)([.-].*)?$`)

// isLicence says whether a file at a module's root is a licence text (a
// Go file named license.go is code).
func isLicence(name string) bool {
	return licenceName.MatchString(name) && !strings.HasSuffix(name, ".go")
}

// Read lists the files of the zstd-compressed newc archive at path and
// where each comes from.
func Read(ctx context.Context, cfg Config, archive string) (*Inventory, error) {
	recs, err := records(archive)
	if err != nil {
		return nil, err
	}
	inv := &Inventory{Programs: map[string][]Module{}}
	var other []string
	for _, r := range recs {
		name := cpio.Normalize(r.Name)
		if r.Mode&cpio.S_IFMT != cpio.S_IFREG {
			continue
		}
		if bi, err := buildinfo.Read(r.ReaderAt); err == nil {
			inv.GoVersion = bi.GoVersion
			inv.Programs[name] = modules(bi)
			continue
		}
		if isSquashfs(r.ReaderAt) {
			progs, err := squashfsPrograms(ctx, name, r)
			if err != nil {
				return nil, err
			}
			for p, bi := range progs {
				inv.GoVersion = bi.GoVersion
				inv.Programs[p] = modules(bi)
			}
			continue
		}
		other = append(other, name)
	}
	owners, err := owners(ctx, cfg, other)
	if err != nil {
		return nil, err
	}
	byPkg := map[string][]string{}
	for _, name := range other {
		if p, ok := cfg.Generated[name]; ok {
			byPkg[p] = append(byPkg[p], name)
		} else if p, ok := owners[name]; ok {
			byPkg[p] = append(byPkg[p], name)
		} else {
			inv.Own = append(inv.Own, name)
		}
	}
	for _, p := range cfg.Extra {
		byPkg[p] = append(byPkg[p], "")
	}
	if inv.Packages, err = packages(ctx, cfg, byPkg); err != nil {
		return nil, err
	}
	return inv, nil
}

// isSquashfs says whether a file is a squashfs image (its magic number).
func isSquashfs(r io.ReaderAt) bool {
	var magic [4]byte
	_, err := r.ReadAt(magic[:], 0)
	return err == nil && string(magic[:]) == "hsqs"
}

// squashfsPrograms unpacks the squashfs image r, named name in the
// archive, and returns the build information of its Go programs by
// "name:path". b2c's images hold Go programs only: another file is an
// error, since nothing here would list its origin.
func squashfsPrograms(ctx context.Context, name string, r cpio.Record) (map[string]*buildinfo.BuildInfo, error) {
	tmp, err := os.MkdirTemp("", "b2c-licenses-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	img := filepath.Join(tmp, "image")
	b, err := io.ReadAll(io.NewSectionReader(r.ReaderAt, 0, int64(r.FileSize)))
	if err == nil {
		err = os.WriteFile(img, b, 0o644)
	}
	if err != nil {
		return nil, err
	}
	root := filepath.Join(tmp, "root")
	if out, err := exec.CommandContext(ctx, "unsquashfs", "-no-xattrs", "-quiet", "-no-progress", "-d", root, img).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("unsquashfs %s: %v\n%s", name, err, out)
	}
	progs := map[string]*buildinfo.BuildInfo{}
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		bi, err := buildinfo.ReadFile(p)
		if err != nil {
			return fmt.Errorf("%s:%s is not a Go program: %w", name, rel, err)
		}
		progs[name+":"+filepath.ToSlash(rel)] = bi
		return nil
	})
	return progs, err
}

func records(archive string) ([]cpio.Record, error) {
	f, err := os.Open(archive)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	dec, err := zstd.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	defer dec.Close()
	raw, err := io.ReadAll(dec)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	recs, err := cpio.ReadAllRecords(cpio.Newc.Reader(bytes.NewReader(raw)))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", archive, err)
	}
	return recs, nil
}

// modules lists the modules of a Go program, replacements applied. The
// main module is left out: every program of the image is built in b2c's
// module (podman too, as a dependency of it) or, for u-root's tools, in a
// module generated for the build.
func modules(bi *buildinfo.BuildInfo) []Module {
	var ms []Module
	for _, d := range bi.Deps {
		if d.Replace != nil {
			d = d.Replace
		}
		ms = append(ms, Module{d.Path, d.Version})
	}
	return ms
}

// hostPaths are the paths under which a file of the archive may be known
// to dpkg: Debian 12 ships some files under /lib and /bin whose merged-/usr
// twins are what the archive records, and the other way round.
func hostPaths(name string) []string {
	p := "/" + name
	for _, d := range []string{"/bin/", "/sbin/", "/lib/", "/lib64/"} {
		if strings.HasPrefix(p, "/usr"+d) {
			return []string{p, strings.TrimPrefix(p, "/usr")}
		}
		if strings.HasPrefix(p, d) {
			return []string{p, "/usr" + p}
		}
	}
	return []string{p}
}

// owners maps archive paths to the Debian package that owns them.
func owners(ctx context.Context, cfg Config, names []string) (map[string]string, error) {
	byHost := map[string]string{}
	var args []string
	for _, n := range names {
		for _, h := range hostPaths(n) {
			byHost[h] = n
			args = append(args, h)
		}
	}
	out := map[string]string{}
	for len(args) > 0 {
		// dpkg-query exits 1 when one of the paths has no owner: what it
		// printed for the others still counts.
		batch := args[:min(len(args), 500)]
		args = args[len(batch):]
		b, err := cfg.Dpkg(ctx, append([]string{"-S"}, batch...)...)
		if err != nil && len(b) == 0 {
			continue
		}
		for pkg, paths := range parseSearch(b) {
			for _, p := range paths {
				if n, ok := byHost[p]; ok {
					out[n] = pkg
				}
			}
		}
	}
	return out, nil
}

// parseSearch parses `dpkg-query -S` output ("pkg[:arch][, pkg2]: /path")
// into package → paths, architecture qualifiers dropped.
func parseSearch(b []byte) map[string][]string {
	m := map[string][]string{}
	for _, line := range strings.Split(string(b), "\n") {
		pkgs, p, ok := strings.Cut(line, ": ")
		if !ok || strings.HasPrefix(pkgs, "diversion by") || !strings.HasPrefix(p, "/") {
			continue
		}
		pkg, _, _ := strings.Cut(strings.Split(pkgs, ", ")[0], ":")
		m[pkg] = append(m[pkg], p)
	}
	return m
}

func packages(ctx context.Context, cfg Config, byPkg map[string][]string) ([]Package, error) {
	if len(byPkg) == 0 {
		return nil, nil
	}
	var names []string
	for p := range byPkg {
		names = append(names, p)
	}
	sort.Strings(names)
	b, err := cfg.Dpkg(ctx, append([]string{"-W", "-f", "${Package}\t${Version}\t${source:Package}\t${source:Version}\n"}, names...)...)
	if err != nil {
		return nil, fmt.Errorf("dpkg-query -W %s: %w", strings.Join(names, " "), err)
	}
	var ps []Package
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Split(line, "\t")
		if len(f) != 4 || seen[f[0]] {
			continue
		}
		seen[f[0]] = true
		var files []string
		for _, n := range byPkg[f[0]] {
			if n != "" {
				files = append(files, n)
			}
		}
		ps = append(ps, Package{Name: f[0], Version: f[1], Source: f[2], SourceVersion: f[3], Files: files})
	}
	for _, n := range names {
		if !seen[n] {
			return nil, fmt.Errorf("dpkg-query knows no version of %s", n)
		}
	}
	return ps, nil
}

// Write copies the licence texts of inv into dir and writes dir/SOURCES.md,
// which says, part by part, its licence file and where its source is. A Go
// module without a licence file at its root is listed as such, not an
// error: some modules keep it elsewhere in their repository.
func Write(cfg Config, inv *Inventory, dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var doc strings.Builder
	doc.WriteString(header)
	if err := copyFile(cfg.Own, filepath.Join(dir, "LICENSE")); err != nil {
		return fmt.Errorf("b2c's licence: %w", err)
	}
	fmt.Fprintf(&doc, "\n## b2c\n\n`LICENSE`. Source: this repository, at the version in `/etc/b2c.version`. Its own files in the image:\n\n")
	for _, n := range inv.Own {
		fmt.Fprintf(&doc, "- `/%s`\n", n)
	}
	if err := writePackages(cfg, inv, dir, &doc); err != nil {
		return err
	}
	if err := writeModules(cfg, inv, dir, &doc); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "SOURCES.md"), []byte(doc.String()), 0o644)
}

const header = `# Licences and sources of what this release contains

Generated by mkinitramfs/licenses from the initramfs itself. Each part
below names its licence texts (paths relative to this directory) and where
its complete source is. Debian's sources: ` + "`apt-get source PACKAGE=VERSION`" + `
(or snapshot.debian.org). Go modules' sources: the Go module proxy, by
module path and version. The kernel is Debian's linux-source-6.1 with the
changes of ` + "`kernel/build.sh`" + ` and the configuration ` + "`kernel/b2c.config`" + `
of this repository.
`

func writePackages(cfg Config, inv *Inventory, dir string, doc *strings.Builder) error {
	fmt.Fprintf(doc, "\n## Debian packages\n\n| package | version | source package | licence texts | files |\n|---|---|---|---|---|\n")
	for _, p := range inv.Packages {
		rel := path.Join("debian", p.Name+".copyright")
		if err := copyFile(filepath.Join(cfg.DocDir, p.Name, "copyright"), filepath.Join(dir, rel)); err != nil {
			return fmt.Errorf("package %s: %w", p.Name, err)
		}
		files := fmt.Sprintf("%d", len(p.Files))
		if len(p.Files) == 0 {
			files = "build input"
		}
		fmt.Fprintf(doc, "| %s | %s | %s %s | `%s` | %s |\n", p.Name, p.Version, p.Source, p.SourceVersion, rel, files)
	}
	return nil
}

func writeModules(cfg Config, inv *Inventory, dir string, doc *strings.Builder) error {
	var progs []string
	all := map[Module]bool{}
	for p, ms := range inv.Programs {
		progs = append(progs, "/"+p)
		for _, m := range ms {
			all[m] = true
		}
	}
	sort.Strings(progs)
	fmt.Fprintf(doc, "\n## Go programs: %s\n\nBuilt with Go %s: `go/LICENSE` (BSD-3-Clause), source at go.dev/dl.\n\n| module | version | licence texts |\n|---|---|---|\n",
		strings.Join(progs, ", "), inv.GoVersion)
	if err := copyFile(filepath.Join(cfg.GoRoot, "LICENSE"), filepath.Join(dir, "go", "LICENSE")); err != nil {
		return fmt.Errorf("Go's licence: %w", err)
	}
	ms := make([]Module, 0, len(all))
	for m := range all {
		ms = append(ms, m)
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Path+"@"+ms[i].Version < ms[j].Path+"@"+ms[j].Version })
	for _, m := range ms {
		files, err := copyModule(cfg, m, dir)
		if err != nil {
			return err
		}
		texts := "none at the module's root: see its repository"
		if len(files) > 0 {
			texts = "`" + strings.Join(files, "`, `") + "`"
		}
		fmt.Fprintf(doc, "| %s | %s | %s |\n", m.Path, m.Version, texts)
	}
	return nil
}

// copyModule copies the licence files at the root of module m from the
// module cache and returns their paths relative to dir.
func copyModule(cfg Config, m Module, dir string) ([]string, error) {
	esc, err := module.EscapePath(m.Path)
	if err != nil {
		return nil, fmt.Errorf("module %s: %w", m.Path, err)
	}
	escv, err := module.EscapeVersion(m.Version)
	if err != nil {
		return nil, fmt.Errorf("module %s %s: %w", m.Path, m.Version, err)
	}
	src := filepath.Join(cfg.ModCache, esc+"@"+escv)
	entries, err := os.ReadDir(src)
	if err != nil {
		return nil, fmt.Errorf("module %s@%s is not in the module cache (go mod download it): %w", m.Path, m.Version, err)
	}
	var out []string
	for _, e := range entries {
		if !e.Type().IsRegular() || !isLicence(e.Name()) {
			continue
		}
		rel := path.Join("go", m.Path+"@"+m.Version, e.Name())
		if err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dir, rel)); err != nil {
			return nil, err
		}
		out = append(out, rel)
	}
	return out, nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return err
	}
	return os.WriteFile(dst, b, 0o644)
}
