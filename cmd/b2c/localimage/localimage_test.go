package localimage

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
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
		got, err := Load(tt.image, kind, t.TempDir())
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
		if _, err := Load(p, Archive, t.TempDir()); err == nil {
			t.Errorf("Load(%s) gives no error", p)
		}
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
