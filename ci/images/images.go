// Package images builds the container images of the end-to-end tests from
// Debian's static busybox with go-containerregistry, and pushes them to a
// registry: no Docker engine, no download. Images are reproducible (fixed
// timestamps and owners), so a rebuilt image has the same digest and a
// guest's cache can be checked across test runs.
package images

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// BusyboxPath is the static busybox of Debian's busybox-static package.
const BusyboxPath = "/bin/busybox"

// epoch stamps every file and config, for reproducible digests.
var epoch = time.Unix(0, 0).UTC()

// File is a file of a layer.
type File struct {
	Path string      // absolute or relative to /; parents are created
	Data []byte      // contents of a regular file
	Mode fs.FileMode // permissions, 0644 if 0; fs.ModeDir for a directory
	Link string      // if set, a symbolic link to Link
}

// Layer returns a layer holding files, in order, owned by root.
func Layer(files ...File) (v1.Layer, error) {
	b, err := tarFiles(files)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return layerFromTar(b, gzip.DefaultCompression)
}

func layerFromTar(b []byte, level int) (v1.Layer, error) {
	l, err := tarball.LayerFromOpener(
		func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithMediaType(types.OCILayer),
		tarball.WithCompressionLevel(level),
		// The digest and the push each compress the layer otherwise.
		tarball.WithCompressedCaching,
	)
	if err != nil {
		return nil, fmt.Errorf("layer: %w", err)
	}
	return l, nil
}

// tarFiles writes files into a tar, with the parent directories the
// files list does not name itself.
func tarFiles(files []File) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dirs := map[string]bool{}
	var mkdirs func(dir string) error
	mkdirs = func(dir string) error {
		if dir == "." || dir == "/" || dirs[dir] {
			return nil
		}
		if err := mkdirs(path.Dir(dir)); err != nil {
			return err
		}
		dirs[dir] = true
		return tw.WriteHeader(header(dir+"/", tar.TypeDir, 0o755))
	}
	for _, f := range files {
		p := strings.Trim(path.Clean("/"+f.Path), "/")
		if p == "" {
			return nil, fmt.Errorf("bad path %q", f.Path)
		}
		if err := mkdirs(path.Dir(p)); err != nil {
			return nil, err
		}
		perm := int64(f.Mode.Perm())
		if f.Mode&fs.ModeSticky != 0 {
			perm |= 0o1000
		}
		var h *tar.Header
		switch {
		case f.Link != "":
			h = header(p, tar.TypeSymlink, 0o777)
			h.Linkname = f.Link
		case f.Mode.IsDir():
			if perm == 0 {
				perm = 0o755
			}
			dirs[p] = true
			h = header(p+"/", tar.TypeDir, perm)
		default:
			if perm == 0 {
				perm = 0o644
			}
			h = header(p, tar.TypeReg, perm)
			h.Size = int64(len(f.Data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.Data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func header(name string, typ byte, mode int64) *tar.Header {
	return &tar.Header{
		Name: name, Typeflag: typ, Mode: mode, ModTime: epoch,
		Uname: "root", Gname: "root", Format: tar.FormatPAX,
	}
}

// Busybox returns a linux/amd64 image with /bin/busybox, a link in /bin for
// each of its applets, /tmp, a root user, PATH=/bin:/usr/bin and sh as its
// command.
func Busybox() (v1.Image, error) { return busybox(BusyboxPath, BusyboxPath, "amd64") }

// BusyboxFor returns Busybox's image for another architecture (a GOARCH
// such as arm64), with bin the static busybox built for it: Debian's
// busybox-static of that architecture, unpacked (mkinitramfs/sysroot.sh
// does). The host cannot run it, so the applets are the host busybox's:
// Debian builds busybox-static from one configuration on every
// architecture.
func BusyboxFor(arch, bin string) (v1.Image, error) { return busybox(bin, BusyboxPath, arch) }

// Index returns a multi-platform image index of imgs, each listed under
// the linux platform of its config's architecture, as registries serve
// multi-arch images.
func Index(imgs ...v1.Image) (v1.ImageIndex, error) {
	var adds []mutate.IndexAddendum
	for _, img := range imgs {
		cf, err := img.ConfigFile()
		if err != nil {
			return nil, fmt.Errorf("index: %w", err)
		}
		adds = append(adds, mutate.IndexAddendum{
			Add:        img,
			Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: cf.OS, Architecture: cf.Architecture}},
		})
	}
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	return mutate.AppendManifests(idx, adds...), nil
}

// PushIndex writes idx to ref (host:port/name:tag) on a plain-HTTP
// registry.
func PushIndex(ctx context.Context, idx v1.ImageIndex, ref string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.WriteIndex(r, idx, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// busybox builds the image of bin, for arch, with the applets lister
// (a busybox the host runs) lists.
func busybox(bin, lister, arch string) (v1.Image, error) {
	bb, err := os.ReadFile(bin)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("busybox image: %w: apt-get install busybox-static", err)
	}
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	out, err := exec.Command(lister, "--list").Output()
	if err != nil {
		return nil, fmt.Errorf("busybox image: %s --list: %w (is it busybox-static?)", lister, err)
	}
	applets := strings.Fields(string(out))
	if !slices.Contains(applets, "sh") {
		return nil, fmt.Errorf("busybox image: %s has no sh applet", lister)
	}
	files := []File{
		{Path: "bin/busybox", Data: bb, Mode: 0o755},
		{Path: "usr/bin", Mode: fs.ModeDir | 0o755},
		{Path: "tmp", Mode: fs.ModeDir | fs.ModeSticky | 0o777},
		{Path: "root", Mode: fs.ModeDir | 0o700},
		{Path: "etc/passwd", Data: []byte("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n")},
		{Path: "etc/group", Data: []byte("root:x:0:\nnobody:x:65534:\n")},
	}
	for _, a := range applets {
		if a != "busybox" && !strings.Contains(a, "/") {
			files = append(files, File{Path: "bin/" + a, Link: "busybox"})
		}
	}
	l, err := Layer(files...)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	img, err := mutate.AppendLayers(ociEmpty(), l)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = arch, "linux"
	cf.Created = v1.Time{Time: epoch}
	cf.Config.Env = []string{"PATH=/bin:/usr/bin"}
	cf.Config.Cmd = []string{"sh"}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("busybox image: %w", err)
	}
	return img, nil
}

// ociEmpty is an empty image with OCI media types, which podman, like
// every current client, pulls.
func ociEmpty() v1.Image {
	return mutate.ConfigMediaType(mutate.MediaType(empty.Image, types.OCIManifestSchema1), types.OCIConfigJSON)
}

// WithFiles returns img with one more layer holding files.
func WithFiles(img v1.Image, files ...File) (v1.Image, error) {
	l, err := Layer(files...)
	if err != nil {
		return nil, err
	}
	img, err = mutate.AppendLayers(img, l)
	if err != nil {
		return nil, fmt.Errorf("append layer: %w", err)
	}
	return img, nil
}

// WithBlob returns img with one more layer holding, at path, size bytes
// that look random but only depend on seed: a big, incompressible image
// with a known digest, for download and cache tests.
func WithBlob(img v1.Image, path string, size int, seed int64) (v1.Image, error) {
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], uint64(seed))
	data := make([]byte, size)
	_, _ = rand.NewChaCha8(key).Read(data) // never fails
	b, err := tarFiles([]File{{Path: path, Data: data}})
	if err != nil {
		return nil, fmt.Errorf("blob layer: %w", err)
	}
	// Random bytes do not compress: do not spend seconds trying.
	l, err := layerFromTar(b, gzip.NoCompression)
	if err != nil {
		return nil, err
	}
	img, err = mutate.AppendLayers(img, l)
	if err != nil {
		return nil, fmt.Errorf("append blob layer: %w", err)
	}
	return img, nil
}

// Push writes img to ref (host:port/name:tag) on a plain-HTTP registry.
func Push(ctx context.Context, img v1.Image, ref string) error {
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	if err := remote.Write(r, img, remote.WithContext(ctx)); err != nil {
		return fmt.Errorf("push %s: %w", ref, err)
	}
	return nil
}

// WriteOCIArchive writes img to file as an OCI archive, the tarball of an
// OCI image layout that `podman save --format oci-archive` writes.
func WriteOCIArchive(img v1.Image, file string) error {
	return writeOCIArchive(file, func(p layout.Path) error { return p.AppendImage(img) })
}

// WriteOCIArchiveIndex writes a multi-platform index as an OCI archive:
// the layout's index.json lists the index, which lists the images.
func WriteOCIArchiveIndex(idx v1.ImageIndex, file string) error {
	return writeOCIArchive(file, func(p layout.Path) error { return p.AppendIndex(idx) })
}

func writeOCIArchive(file string, add func(layout.Path) error) error {
	dir, err := os.MkdirTemp("", "b2c-oci-layout-")
	if err != nil {
		return fmt.Errorf("write OCI archive %s: %w", file, err)
	}
	defer os.RemoveAll(dir)
	p, err := layout.Write(dir, empty.Index)
	if err != nil {
		return fmt.Errorf("write OCI archive %s: %w", file, err)
	}
	if err := add(p); err != nil {
		return fmt.Errorf("write OCI archive %s: %w", file, err)
	}
	f, err := os.Create(file)
	if err != nil {
		return fmt.Errorf("write OCI archive: %w", err)
	}
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		f.Close()
		return fmt.Errorf("write OCI archive %s: %w", file, err)
	}
	if err := tw.Close(); err != nil {
		f.Close()
		return fmt.Errorf("write OCI archive %s: %w", file, err)
	}
	return f.Close()
}

// DebianBusybox returns Debian's static busybox for arch (a GOARCH): the
// host's own for amd64, else the one of Debian's busybox-static for arch
// that mkinitramfs/sysroot.sh unpacks (in a cache, once).
func DebianBusybox(ctx context.Context, arch string) (string, error) {
	if arch == "amd64" {
		return BusyboxPath, nil
	}
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		return "", errors.New("debian busybox: no source path")
	}
	script := filepath.Join(filepath.Dir(file), "..", "..", "mkinitramfs", "sysroot.sh")
	out, err := exec.CommandContext(ctx, script, arch).Output()
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%w: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("debian busybox for %s: %s: %w", arch, script, err)
	}
	return filepath.Join(strings.TrimSpace(string(out)), "bin", "busybox"), nil
}

// MultiArchBusybox returns an index of Busybox for linux/amd64 and
// linux/arm64, the demo's image: each VM pulls its own.
func MultiArchBusybox(ctx context.Context) (v1.ImageIndex, error) {
	amd, err := Busybox()
	if err != nil {
		return nil, err
	}
	bin, err := DebianBusybox(ctx, "arm64")
	if err != nil {
		return nil, err
	}
	arm, err := BusyboxFor("arm64", bin)
	if err != nil {
		return nil, err
	}
	return Index(amd, arm)
}
