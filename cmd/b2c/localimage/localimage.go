// Package localimage finds the image `b2c run` was given and serves local
// ones to the VM: an OCI layout directory, or a `docker save` or OCI
// archive tarball, is pushed into a registry that runs inside the b2c
// process on 127.0.0.1 (go-containerregistry's registry package), which
// the guest reaches at 10.0.2.2 through QEMU's user networking. The
// registry counts the layers it serves, so a run can tell whether its
// cache saved the download.
package localimage

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Kind is where an image comes from.
type Kind int

const (
	// Remote is a registry reference, pulled by the guest itself.
	Remote Kind = iota
	// Layout is an OCI image layout directory.
	Layout
	// Archive is a tarball: `docker save` or an OCI archive.
	Archive
)

func (k Kind) String() string {
	return [...]string{"registry reference", "OCI layout directory", "image tarball"}[k]
}

// Detect tells what image names: an existing directory or file is local,
// a path that does not exist is an error, anything else is a reference.
func Detect(image string) (Kind, error) {
	if strings.HasPrefix(image, "docker://") {
		return Remote, nil
	}
	fi, err := os.Stat(image)
	switch {
	case err == nil && fi.IsDir():
		if _, err := os.Stat(filepath.Join(image, "oci-layout")); err != nil {
			return 0, fmt.Errorf("image %s: a directory but not an OCI layout (no oci-layout file)", image)
		}
		return Layout, nil
	case err == nil:
		return Archive, nil
	case !errors.Is(err, os.ErrNotExist):
		return 0, fmt.Errorf("image %s: %w", image, err)
	case looksLikePath(image):
		return 0, fmt.Errorf("image %s: no such file or directory", image)
	}
	if _, err := name.ParseReference(image); err != nil {
		return 0, fmt.Errorf("image %s: neither a file nor a registry reference: %w", image, err)
	}
	return Remote, nil
}

// looksLikePath tells file names from references: a reference never
// starts with / or ., and has no .tar in its name.
func looksLikePath(s string) bool {
	return strings.HasPrefix(s, "/") || strings.HasPrefix(s, ".") || strings.HasPrefix(s, "~") ||
		strings.Contains(s, ".tar")
}

// Load reads the local image that a VM of arch (a GOARCH) runs: the
// linux/arch image of a multi-platform index; an image for another
// platform is an error, which names the platforms there are. tmp is a
// directory for an OCI archive's files, which must outlive the image.
func Load(path string, kind Kind, tmp, arch string) (v1.Image, error) {
	switch kind {
	case Layout:
		img, err := fromLayout(path, arch)
		if err != nil {
			return nil, fmt.Errorf("OCI layout %s: %w", path, err)
		}
		return img, nil
	case Archive:
		oci, err := isOCIArchive(path)
		if err != nil {
			return nil, err
		}
		if !oci {
			img, err := tarball.ImageFromPath(path, nil)
			if err != nil {
				return nil, fmt.Errorf("read docker archive %s: %w", path, err)
			}
			if err := checkPlatform(img, arch); err != nil {
				return nil, fmt.Errorf("docker archive %s: %w", path, err)
			}
			return img, nil
		}
		if err := untar(path, tmp); err != nil {
			return nil, err
		}
		img, err := fromLayout(tmp, arch)
		if err != nil {
			return nil, fmt.Errorf("OCI archive %s: %w", path, err)
		}
		return img, nil
	}
	return nil, fmt.Errorf("load %s: not a local image", path)
}

// isOCIArchive tells an OCI archive (it has oci-layout) from a docker
// save one (manifest.json only; newer dockers write both, which reads
// as OCI).
func isOCIArchive(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, fmt.Errorf("read image tarball: %w", err)
	}
	defer f.Close()
	br := bufio.NewReader(f)
	if magic, _ := br.Peek(2); bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		return false, fmt.Errorf("image tarball %s is compressed: decompress it first (gunzip)", path)
	}
	tr := tar.NewReader(br)
	docker := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return false, fmt.Errorf("image tarball %s: %w", path, err)
		}
		switch strings.TrimPrefix(h.Name, "./") {
		case "oci-layout":
			return true, nil
		case "manifest.json":
			docker = true
		}
	}
	if !docker {
		return false, fmt.Errorf("image tarball %s: neither oci-layout nor manifest.json in it", path)
	}
	return false, nil
}

// untar extracts the regular files and directories of an OCI archive.
func untar(path, dir string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("read image tarball: %w", err)
	}
	defer f.Close()
	tr := tar.NewReader(bufio.NewReader(f))
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("image tarball %s: %w", path, err)
		}
		p, err := filepath.Localize(strings.TrimPrefix(filepath.Clean("/"+h.Name), "/"))
		if err != nil || p == "." {
			continue
		}
		p = filepath.Join(dir, p)
		switch h.Typeflag {
		case tar.TypeDir:
			err = os.MkdirAll(p, 0o755)
		case tar.TypeReg:
			err = writeFile(p, tr)
		}
		if err != nil {
			return fmt.Errorf("extract %s from %s: %w", h.Name, path, err)
		}
	}
}

func writeFile(p string, r io.Reader) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		return err
	}
	f, err := os.Create(p)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// fromLayout reads the image for linux/arch of an OCI layout.
func fromLayout(dir, arch string) (v1.Image, error) {
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		return nil, fmt.Errorf("read: %w", err)
	}
	return pickImage(idx, arch)
}

// pickImage finds the image the VM runs in an index, looking into nested
// indexes: the first one for linux/arch, or the only one when the index
// names no platform (a layout's index.json), if its config does not name
// another.
func pickImage(idx v1.ImageIndex, arch string) (v1.Image, error) {
	m, err := idx.IndexManifest()
	if err != nil {
		return nil, err
	}
	var images []v1.Descriptor
	for _, d := range m.Manifests {
		switch {
		case d.MediaType.IsIndex():
			child, err := idx.ImageIndex(d.Digest)
			if err != nil {
				return nil, err
			}
			return pickImage(child, arch)
		case d.MediaType.IsImage():
			images = append(images, d)
		}
	}
	want := v1.Platform{OS: "linux", Architecture: arch}
	var others []string
	for _, d := range images {
		switch {
		case d.Platform == nil && len(images) == 1:
			img, err := idx.Image(d.Digest)
			if err != nil {
				return nil, err
			}
			return img, checkPlatform(img, arch)
		case d.Platform == nil:
			others = append(others, "unknown")
		case d.Platform.OS == want.OS && d.Platform.Architecture == want.Architecture:
			return idx.Image(d.Digest)
		default:
			others = append(others, platform(*d.Platform))
		}
	}
	if len(images) == 0 {
		return nil, errors.New("no image in it")
	}
	return nil, fmt.Errorf("no image for %s (b2c run --arch) in it, only for %s", platform(want), strings.Join(others, ", "))
}

// checkPlatform fails when img's config says it is for another platform
// than linux/arch: podman in the guest would pull it, and its programs
// would fail with "exec format error". A config without an architecture
// is taken as it is.
func checkPlatform(img v1.Image, arch string) error {
	c, err := img.ConfigFile()
	if err != nil {
		return fmt.Errorf("read the image config: %w", err)
	}
	if c.Architecture == "" {
		return nil
	}
	if c.Architecture != arch || c.OS != "" && c.OS != "linux" {
		have := v1.Platform{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}
		return fmt.Errorf("the image is for %s, not linux/%s (b2c run --arch)", platform(have), arch)
	}
	return nil
}

// platform names p as os/arch[/variant], as podman does; a platform
// without an OS is "unknown/arch".
func platform(p v1.Platform) string {
	if p.OS == "" {
		p.OS = "unknown"
	}
	return p.String()
}

// ErrNotFound is a registry's answer that the image does not exist.
var ErrNotFound = errors.New("image not found")

// CheckRemote asks the image's registry whether the image exists, with
// the host's docker credentials. It returns ErrNotFound only when the
// registry says so: a host that cannot reach the registry cannot tell,
// and leaves the answer to the guest.
func CheckRemote(ctx context.Context, image string, insecure bool) error {
	var opts []name.Option
	if insecure {
		opts = append(opts, name.Insecure)
	}
	ref, err := name.ParseReference(strings.TrimPrefix(image, "docker://"), opts...)
	if err != nil {
		return fmt.Errorf("image %s: %w", image, err)
	}
	_, err = remote.Head(ref, remote.WithContext(ctx), remote.WithAuthFromKeychain(authn.DefaultKeychain))
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusNotFound || hasCode(te, transport.ManifestUnknownErrorCode, transport.NameUnknownErrorCode)) {
		return fmt.Errorf("%s: %w (%v)", ref, ErrNotFound, err)
	}
	return nil
}

func hasCode(te *transport.Error, codes ...transport.ErrorCode) bool {
	for _, d := range te.Errors {
		for _, c := range codes {
			if d.Code == c {
				return true
			}
		}
	}
	return false
}
