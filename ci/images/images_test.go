package images

import (
	"archive/tar"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/ci/registry"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// entry is what the tests check of a tar entry.
type entry struct {
	typ  byte
	mode int64
	size int64
	link string
}

// entries lists the files of a layer.
func entries(t *testing.T, l v1.Layer) map[string]entry {
	t.Helper()
	rc, err := l.Uncompressed()
	if err != nil {
		t.Fatal(err)
	}
	defer rc.Close()
	m := map[string]entry{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return m
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Uid != 0 || h.Gid != 0 || h.ModTime.Unix() != 0 {
			t.Errorf("%s: uid %d gid %d mtime %v, want root and the epoch", h.Name, h.Uid, h.Gid, h.ModTime)
		}
		m[h.Name] = entry{h.Typeflag, h.Mode, h.Size, h.Linkname}
	}
}

func mustBusybox(t *testing.T) v1.Image {
	t.Helper()
	img, err := Busybox()
	if err != nil {
		t.Fatal(err) // make deps installs busybox-static: not a skip
	}
	return img
}

func TestBusybox(t *testing.T) {
	img := mustBusybox(t)
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "amd64" ||
		!slices.Equal(cf.Config.Cmd, []string{"sh"}) || !slices.Equal(cf.Config.Env, []string{"PATH=/bin:/usr/bin"}) {
		t.Errorf("config: %s/%s cmd %q env %q", cf.OS, cf.Architecture, cf.Config.Cmd, cf.Config.Env)
	}
	if mt, err := img.MediaType(); err != nil || mt != types.OCIManifestSchema1 {
		t.Errorf("media type %q, %v", mt, err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	files := entries(t, layers[0])
	if bb := files["bin/busybox"]; bb.typ != tar.TypeReg || bb.mode != 0o755 || bb.size < 100000 {
		t.Errorf("bin/busybox: %+v", bb)
	}
	for _, applet := range []string{"sh", "echo", "sleep", "cat", "ls", "ps", "date", "wget", "nc", "env", "true", "false", "test", "mkdir", "ip", "sync", "poweroff"} {
		if e := files["bin/"+applet]; e.typ != tar.TypeSymlink || e.link != "busybox" {
			t.Errorf("bin/%s: %+v, want a link to busybox", applet, e)
		}
	}
	for _, dir := range []string{"bin/", "usr/", "usr/bin/", "tmp/", "etc/", "root/"} {
		if e := files[dir]; e.typ != tar.TypeDir {
			t.Errorf("%s: %+v, want a directory", dir, e)
		}
	}
	if files["tmp/"].mode != 0o1777 {
		t.Errorf("tmp/ mode %o, want 1777", files["tmp/"].mode)
	}
	if e := files["etc/passwd"]; e.typ != tar.TypeReg || e.mode != 0o644 {
		t.Errorf("etc/passwd: %+v", e)
	}

	// Reproducible: a second build has the same digest.
	again := mustBusybox(t)
	d1, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if d2, err := again.Digest(); err != nil || d1 != d2 {
		t.Errorf("rebuilt digest %v (%v), want %v", d2, err, d1)
	}
}

func TestBusyboxMissing(t *testing.T) {
	_, err := busybox(filepath.Join(t.TempDir(), "busybox"), BusyboxPath, "amd64")
	if err == nil || !strings.Contains(err.Error(), "apt-get install busybox-static") {
		t.Errorf("busybox(missing) = %v, want a hint to install busybox-static", err)
	}
}

func TestWithBlob(t *testing.T) {
	base := mustBusybox(t)
	const size = 3 << 20
	digest := func(seed int64) v1.Hash {
		t.Helper()
		img, err := WithBlob(base, "/data/blob", size, seed)
		if err != nil {
			t.Fatal(err)
		}
		layers, err := img.Layers()
		if err != nil || len(layers) != 2 {
			t.Fatalf("%d layers, %v", len(layers), err)
		}
		if e := entries(t, layers[1])["data/blob"]; e.size != size {
			t.Errorf("data/blob: %+v, want %d bytes", e, size)
		}
		if n, err := layers[1].Size(); err != nil || n < size {
			t.Errorf("blob layer is %d bytes compressed (%v), want at least %d: random data does not compress", n, err, size)
		}
		d, err := img.Digest()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	a, b, c := digest(1), digest(1), digest(2)
	if a != b {
		t.Errorf("same seed, different digests: %v, %v", a, b)
	}
	if a == c {
		t.Errorf("different seeds, same digest %v", a)
	}
}

func TestWithFiles(t *testing.T) {
	img, err := WithFiles(mustBusybox(t),
		File{Path: "/usr/local/bin/job", Data: []byte("#!/bin/sh\necho job\n"), Mode: 0o755},
		File{Path: "etc/motd", Data: []byte("hi\n")},
		File{Path: "/bin/job", Link: "/usr/local/bin/job"},
	)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil || len(layers) != 2 {
		t.Fatalf("%d layers, %v", len(layers), err)
	}
	files := entries(t, layers[1])
	for name, want := range map[string]entry{
		"usr/":              {tar.TypeDir, 0o755, 0, ""},
		"usr/local/bin/":    {tar.TypeDir, 0o755, 0, ""},
		"usr/local/bin/job": {tar.TypeReg, 0o755, 19, ""},
		"etc/motd":          {tar.TypeReg, 0o644, 3, ""},
		"bin/job":           {tar.TypeSymlink, 0o777, 0, "/usr/local/bin/job"},
	} {
		if got := files[name]; got != want {
			t.Errorf("%s: %+v, want %+v", name, got, want)
		}
	}
	if _, err := WithFiles(img, File{Path: "/"}); err == nil {
		t.Error("WithFiles accepted a file named /")
	}
}

// TestPush pushes the busybox image to a real registry and pulls it back.
func TestPush(t *testing.T) {
	r, err := registry.Start(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	img := mustBusybox(t)
	ref := r.Addr() + "/b2c/busybox:latest"
	if err := Push(t.Context(), img, ref); err != nil {
		t.Fatal(err)
	}
	r.Reset()

	parsed, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	pulled, err := remote.Image(parsed, remote.WithContext(t.Context()))
	if err != nil {
		t.Fatal(err)
	}
	want, err := img.Digest()
	if err != nil {
		t.Fatal(err)
	}
	if got, err := pulled.Digest(); err != nil || got != want {
		t.Errorf("pulled digest %v (%v), want %v", got, err, want)
	}
	cf, err := pulled.ConfigFile()
	if err != nil || !slices.Equal(cf.Config.Cmd, []string{"sh"}) {
		t.Errorf("pulled config: %+v, %v", cf, err)
	}
	if c := r.Counts(); c.ManifestGETs != 1 || c.BlobGETs != 1 {
		t.Errorf("counts after pulling the manifest and config: %+v, want 1 manifest GET and 1 blob GET", c)
	}

	if err := Push(t.Context(), img, "not a reference"); err == nil {
		t.Error("Push to a bad reference: no error")
	}
}

// TestWriteOCIArchive reads the archive back as an OCI layout.
func TestWriteOCIArchive(t *testing.T) {
	img, err := WithFiles(ociEmpty(), File{Path: "hello", Data: []byte("hi")})
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "img.tar")
	if err := WriteOCIArchive(img, file); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := exec.Command("tar", "-xf", file, "-C", dir).Run(); err != nil {
		t.Fatalf("tar -xf %s: %v", file, err)
	}
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	want, _ := img.Digest()
	if len(m.Manifests) != 1 || m.Manifests[0].Digest != want {
		t.Errorf("archive index %+v, want the one image %s", m.Manifests, want)
	}
}

// TestIndex: a multi-arch index lists each image under its config's
// platform, and BusyboxFor ships the given binary, not the host's.
func TestIndex(t *testing.T) {
	amd := mustBusybox(t)
	fake := filepath.Join(t.TempDir(), "busybox-arm64")
	if err := os.WriteFile(fake, []byte("not really an arm64 busybox"), 0o755); err != nil {
		t.Fatal(err)
	}
	arm, err := BusyboxFor("arm64", fake)
	if err != nil {
		t.Fatal(err)
	}
	layers, err := arm.Layers()
	if err != nil || len(layers) != 1 {
		t.Fatalf("arm64 image: %d layers, %v", len(layers), err)
	}
	if bb := entries(t, layers[0])["bin/busybox"]; bb.size != int64(len("not really an arm64 busybox")) {
		t.Errorf("arm64 image's bin/busybox: %+v, want the given binary", bb)
	}
	idx, err := Index(amd, arm)
	if err != nil {
		t.Fatal(err)
	}
	m, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range m.Manifests {
		got = append(got, d.Platform.OS+"/"+d.Platform.Architecture)
	}
	if want := []string{"linux/amd64", "linux/arm64"}; !slices.Equal(got, want) {
		t.Errorf("index platforms %q, want %q", got, want)
	}
}
