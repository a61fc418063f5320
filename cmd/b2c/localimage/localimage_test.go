package localimage

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// testImage writes one random image in the three local forms.
func testImage(t *testing.T) (img v1.Image, dockerTar, layoutDir, ociTar string) {
	t.Helper()
	img, err := random.Image(2048, 2)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	dockerTar = filepath.Join(dir, "docker.tar")
	tag, _ := name.NewTag("b2c/test:latest")
	if err := tarball.WriteToFile(dockerTar, tag, img); err != nil {
		t.Fatal(err)
	}
	layoutDir = filepath.Join(dir, "layout")
	p, err := layout.Write(layoutDir, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	ociTar = filepath.Join(dir, "oci.tar")
	tarDir(t, layoutDir, ociTar)
	return img, dockerTar, layoutDir, ociTar
}

// tarDir archives dir's files as `podman save --format oci-archive` does.
func tarDir(t *testing.T, dir, out string) {
	t.Helper()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	if err := tw.AddFS(os.DirFS(dir)); err != nil {
		t.Fatal(err)
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestDetectAndLoad(t *testing.T) {
	img, dockerTar, layoutDir, ociTar := testImage(t)
	want, _ := img.ConfigName()
	for _, tt := range []struct {
		image string
		kind  Kind
	}{
		{dockerTar, Archive},
		{layoutDir, Layout},
		{ociTar, Archive},
	} {
		kind, err := Detect(tt.image)
		if err != nil || kind != tt.kind {
			t.Errorf("Detect(%s) = %v, %v; want %v", tt.image, kind, err, tt.kind)
			continue
		}
		got, err := Load(tt.image, kind, t.TempDir(), "amd64")
		if err != nil {
			t.Errorf("Load(%s): %v", tt.image, err)
			continue
		}
		if c, _ := got.ConfigName(); c != want {
			t.Errorf("Load(%s) config %s, want %s", tt.image, c, want)
		}
	}
}

func TestDetect(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		image string
		kind  Kind
		err   bool
	}{
		{"alpine", Remote, false},
		{"docker://alpine", Remote, false},
		{"registry.lab:5000/ci/igt:latest", Remote, false},
		{dir, 0, true},                            // a directory but no layout
		{filepath.Join(dir, "nope.tar"), 0, true}, // no such file
		{"./nope", 0, true},                       // likewise
		{"UPPER/case", 0, true},                   // not a reference
	} {
		kind, err := Detect(tt.image)
		if (err != nil) != tt.err || kind != tt.kind {
			t.Errorf("Detect(%q) = %v, %v; want %v, error %v", tt.image, kind, err, tt.kind, tt.err)
		}
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	notImage := filepath.Join(dir, "x.tar")
	tarDir(t, t.TempDir(), notImage)
	gz := filepath.Join(dir, "x.tar.gz")
	if err := os.WriteFile(gz, []byte{0x1f, 0x8b, 8, 0}, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{notImage, gz} {
		if _, err := Load(p, Archive, t.TempDir(), "amd64"); err == nil {
			t.Errorf("Load(%s) gives no error", p)
		}
	}
}

// platformImage is a random image whose config names os/arch.
func platformImage(t *testing.T, os, arch string) v1.Image {
	t.Helper()
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	c, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c = c.DeepCopy()
	c.OS, c.Architecture = os, arch
	if img, err = mutate.ConfigFile(img, c); err != nil {
		t.Fatal(err)
	}
	return img
}

// TestPlatforms: the VM gets the image of its architecture from a
// multi-arch index, as a layout, as an OCI archive (where the index is
// nested in the layout's index.json, as `podman save --format
// oci-archive` and ci/images write a manifest list) and as a layout
// whose index.json lists the platforms itself; an image that is for
// another architecture only is an error that names what there is.
func TestPlatforms(t *testing.T) {
	amd, arm, s390x := platformImage(t, "linux", "amd64"), platformImage(t, "linux", "arm64"), platformImage(t, "linux", "s390x")
	index := func(imgs ...v1.Image) v1.ImageIndex {
		var adds []mutate.IndexAddendum
		for _, img := range imgs {
			c, err := img.ConfigFile()
			if err != nil {
				t.Fatal(err)
			}
			adds = append(adds, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: c.OS, Architecture: c.Architecture}}})
		}
		return mutate.AppendManifests(empty.Index, adds...)
	}
	// nested writes idx as a layout whose index.json holds idx.
	nested := func(idx v1.ImageIndex) string {
		dir := filepath.Join(t.TempDir(), "layout")
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.AppendIndex(idx); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// flat writes imgs as a layout whose index.json lists them.
	flat := func(imgs ...v1.Image) string {
		dir := filepath.Join(t.TempDir(), "layout")
		if _, err := layout.Write(dir, index(imgs...)); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	// plain writes imgs in index.json without platforms.
	plain := func(imgs ...v1.Image) string {
		dir := filepath.Join(t.TempDir(), "layout")
		p, err := layout.Write(dir, empty.Index)
		if err != nil {
			t.Fatal(err)
		}
		for _, img := range imgs {
			if err := p.AppendImage(img); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	archive := func(dir string) string {
		f := filepath.Join(t.TempDir(), "oci.tar")
		tarDir(t, dir, f)
		return f
	}
	docker := func(img v1.Image) string {
		f := filepath.Join(t.TempDir(), "docker.tar")
		tag, _ := name.NewTag("b2c/test:latest")
		if err := tarball.WriteToFile(f, tag, img); err != nil {
			t.Fatal(err)
		}
		return f
	}
	multi := nested(index(amd, arm))
	for _, tt := range []struct {
		name, image, arch string
		kind              Kind
		want              v1.Image // nil: an error
		err               string
	}{
		{"index: amd64", multi, "amd64", Layout, amd, ""},
		{"index: arm64", multi, "arm64", Layout, arm, ""},
		{"index in an OCI archive: arm64", archive(multi), "arm64", Archive, arm, ""},
		{"flat index: arm64", flat(amd, arm), "arm64", Layout, arm, ""},
		{"flat index: amd64", flat(amd, arm), "amd64", Layout, amd, ""},
		{"no arm64 in the index", nested(index(amd, s390x)), "arm64", Layout, nil,
			"no image for linux/arm64 (b2c run --arch) in it, only for linux/amd64, linux/s390x"},
		{"one image for another platform in an index", flat(amd), "arm64", Layout, nil, "only for linux/amd64"},
		{"one image, its config for another platform", plain(amd), "arm64", Layout, nil, "the image is for linux/amd64, not linux/arm64"},
		{"one image, its config for the platform", plain(arm), "arm64", Layout, arm, ""},
		{"several images without platforms", plain(amd, arm), "arm64", Layout, nil, "only for unknown, unknown"},
		{"docker archive for another platform", docker(amd), "arm64", Archive, nil, "the image is for linux/amd64, not linux/arm64"},
		{"docker archive for the platform", docker(arm), "arm64", Archive, arm, ""},
		{"docker archive, a config without a platform", docker(platformImage(t, "", "")), "arm64", Archive, nil, ""},
		{"a config without an OS", plain(platformImage(t, "", "amd64")), "arm64", Layout, nil, "the image is for unknown/amd64"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Load(tt.image, tt.kind, t.TempDir(), tt.arch)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !strings.Contains(err.Error(), tt.image) {
					t.Fatalf("Load(%s) error %v, want one naming the image and with %q", tt.arch, err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Load(%s): %v", tt.arch, err)
			}
			if tt.want == nil {
				return
			}
			g, _ := got.ConfigName()
			w, _ := tt.want.ConfigName()
			if g != w {
				c, _ := got.ConfigFile()
				t.Errorf("Load(%s) gave the image for %s/%s", tt.arch, c.OS, c.Architecture)
			}
		})
	}
}

func TestServe(t *testing.T) {
	img, _, _, _ := testImage(t)
	r, err := Serve(t.Context(), img, filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if s := r.Stats(); s != (Stats{Layers: 2}) {
		t.Errorf("Stats after the push = %+v, want 2 layers and nothing served", s)
	}
	ref, err := name.ParseReference(r.Addr()+"/b2c/local:latest", name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	got, err := remote.Image(ref)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := got.Layers()
	if err != nil {
		t.Fatal(err)
	}
	var size int64
	for _, l := range ls {
		rc, err := l.Compressed()
		if err != nil {
			t.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, rc)
		rc.Close()
		size += n
	}
	if s := r.Stats(); s.LayerGETs != 2 || s.LayerBytes != size {
		t.Errorf("Stats after pulling the layers = %+v, want 2 downloads of %d bytes", s, size)
	}
	if g := r.GuestRef(); g != "10.0.2.2"+r.Addr()[len("127.0.0.1"):]+"/b2c/local:latest" {
		t.Errorf("GuestRef = %s", g)
	}

	if err := CheckRemote(t.Context(), r.Addr()+"/b2c/local:latest", true); err != nil {
		t.Errorf("CheckRemote of the served image: %v", err)
	}
	if err := CheckRemote(t.Context(), "docker://"+r.Addr()+"/b2c/nope:latest", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("CheckRemote of a missing image: %v, want ErrNotFound", err)
	}
	// Nothing listens on port 1: the host cannot tell, the guest will.
	if err := CheckRemote(t.Context(), "127.0.0.1:1/b2c/local:latest", true); err != nil {
		t.Errorf("CheckRemote of an unreachable registry: %v, want nil", err)
	}
}
