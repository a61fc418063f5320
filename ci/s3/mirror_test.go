package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/b2c-dev/b2c/init/mirror"
)

// The host side of b2c's mirror: init/mirror against a real MinIO.

func startServer(t *testing.T) *Server {
	t.Helper()
	s, err := Start(t.Context(), t.TempDir(), "b2c-test-access", "b2c-test-secret-0123")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func target(t *testing.T, s *Server, place string) mirror.Target {
	t.Helper()
	c, err := mirror.NewClient("lab", s.URL(), s.AccessKey, s.SecretKey, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, err := mirror.ParsePlace(place)
	if err != nil {
		t.Fatal(err)
	}
	return mirror.Target{Client: c, Place: p}
}

func put(t *testing.T, mc *minio.Client, bucket, key, body string) {
	t.Helper()
	if _, err := mc.PutObject(t.Context(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

func objects(t *testing.T, mc *minio.Client, bucket string) map[string]string {
	t.Helper()
	out, err := Contents(t.Context(), mc, bucket)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	list, err := mirror.ListLocal(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range list {
		out = append(out, e.Path)
	}
	sort.Strings(out)
	return out
}

func write(t *testing.T, p, body string, mode os.FileMode) {
	t.Helper()
	os.MkdirAll(filepath.Dir(p), 0o755)
	if err := os.WriteFile(p, []byte(body), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode)
}

// TestMirrorRoundTrip: pull a prefix, change files, push them back, with
// exclude, remove and preserve; a second push moves nothing.
func TestMirrorRoundTrip(t *testing.T) {
	s := startServer(t)
	mc, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	if err := mc.MakeBucket(ctx, "jobs", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	put(t, mc, "jobs", "job1/in/a.txt", "input a")
	put(t, mc, "jobs", "job1/in/deep/b.txt", "input b")
	put(t, mc, "jobs", "job1/stale.txt", "stale")
	put(t, mc, "jobs", "other/x", "not ours")

	dir := t.TempDir()
	tg := target(t, s, "lab/jobs/job1")
	m := &mirror.Mirror{Dir: dir, Opts: mirror.Options{Remove: true, Preserve: true, Exclude: []string{"*.log"}}}
	res, err := m.Pull(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	if got := files(t, dir); strings.Join(got, " ") != "in/a.txt in/deep/b.txt stale.txt" || res.Files != 3 {
		t.Fatalf("after the pull: %q (%d files), want in/a.txt in/deep/b.txt stale.txt", got, res.Files)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "in/deep/b.txt")); string(b) != "input b" {
		t.Errorf("in/deep/b.txt = %q", b)
	}

	// A pull of an unchanged bucket moves nothing.
	if res, err := m.Pull(ctx, tg); err != nil || res.Files != 0 {
		t.Errorf("second pull: %+v, %v; want nothing moved", res, err)
	}

	mtime := time.Date(2021, 3, 4, 5, 6, 7, 890000000, time.UTC)
	write(t, filepath.Join(dir, "out/result.bin"), "result", 0o750)
	os.Chtimes(filepath.Join(dir, "out/result.bin"), mtime, mtime)
	write(t, filepath.Join(dir, "out/run.log"), "log", 0o644)
	os.Remove(filepath.Join(dir, "stale.txt"))
	res, err = m.Push(ctx, tg)
	if err != nil {
		t.Fatal(err)
	}
	got := objects(t, mc, "jobs")
	want := map[string]string{"job1/in/a.txt": "input a", "job1/in/deep/b.txt": "input b", "job1/out/result.bin": "result", "other/x": "not ours"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("bucket after the push: %v, want %v", got, want)
	}
	if res.Files != 1 || res.Deleted != 1 {
		t.Errorf("push: %+v, want 1 file pushed and 1 deleted", res)
	}
	if res, err := m.Push(ctx, tg); err != nil || res.Files != 0 || res.Deleted != 0 {
		t.Errorf("second push: %+v, %v; want nothing moved", res, err)
	}

	// preserve: a pull elsewhere restores the mode and mtime.
	dir2 := t.TempDir()
	m2 := &mirror.Mirror{Dir: dir2, Opts: mirror.Options{Preserve: true}}
	if _, err := m2.Pull(ctx, tg); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir2, "out/result.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o750 || !fi.ModTime().Equal(mtime) {
		t.Errorf("pulled out/result.bin: mode %o mtime %v, want 750 %v", fi.Mode().Perm(), fi.ModTime(), mtime)
	}

	// Without overwrite a changed object is left alone and reported.
	put(t, mc, "jobs", "job1/in/a.txt", "changed upstream")
	m3 := &mirror.Mirror{Dir: dir2}
	res, err = m3.Pull(ctx, tg)
	if err != nil || len(res.Conflicts) != 1 || res.Conflicts[0] != "in/a.txt" {
		t.Errorf("pull of a changed object without overwrite: %+v, %v; want a conflict on in/a.txt", res, err)
	}
	m3.Opts.Overwrite = true
	if _, err := m3.Pull(ctx, tg); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "in/a.txt")); string(b) != "changed upstream" {
		t.Errorf("with overwrite: in/a.txt = %q", b)
	}
}

// TestMirrorWrongSecret: a wrong secret key fails with an error naming the
// alias and without the secret.
func TestMirrorWrongSecret(t *testing.T) {
	s := startServer(t)
	c, err := mirror.NewClient("lab", s.URL(), s.AccessKey, "wrong-secret-4567", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &mirror.Mirror{Dir: t.TempDir()}
	_, err = m.Pull(t.Context(), mirror.Target{Client: c, Place: mirror.Place{Alias: "lab", Bucket: "jobs"}})
	if err == nil || !strings.Contains(err.Error(), "lab/jobs") || !strings.Contains(err.Error(), "signature") || strings.Contains(err.Error(), "wrong-secret-4567") {
		t.Errorf("pull with a wrong secret: %v; want a signature error naming lab/jobs, without the secret", err)
	}
	t.Logf("error: %v", err)
}

// TestRawTransfer checks the reference that the e2e throughput figure is
// compared with: every object is stored and read back whole.
func TestRawTransfer(t *testing.T) {
	s := startServer(t)
	mc, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if err := mc.MakeBucket(t.Context(), "raw", minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	set := FileSet(20, 1<<20)
	put, get, err := RawTransfer(context.Background(), mc, "raw", set, 8)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("raw 20 MiB in 20 files: put %.1f MiB/s, get %.1f MiB/s", mibps(20<<20, put), mibps(20<<20, get))
	if got := objects(t, mc, "raw"); len(got) != 20 || !bytes.Equal([]byte(got["f000"]), set[0].Data) {
		t.Errorf("raw transfer stored %d objects, want 20 with their bytes", len(got))
	}
}

func mibps(n int64, d time.Duration) float64 { return float64(n) / (1 << 20) / d.Seconds() }

// TestMirrorSSEC: with encrypt_key, objects are stored with SSE-C: they
// read back only with the key, and a pull with it restores them.
func TestMirrorSSEC(t *testing.T) {
	s, err := Start(t.Context(), t.TempDir(), "b2c-test-access", "b2c-test-secret-0123", TLS())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := mirror.NewClient("lab", s.URL(), s.AccessKey, s.SecretKey, s.Transport())
	if err != nil {
		t.Fatal(err)
	}
	sse, err := mirror.SSECKey("0123456789abcdef0123456789abcdef")
	if err != nil {
		t.Fatal(err)
	}
	tg := mirror.Target{Client: c, Place: mirror.Place{Alias: "lab", Bucket: "sealed"}, SSE: sse}
	dir := t.TempDir()
	write(t, filepath.Join(dir, "secret.txt"), "sealed bytes", 0o644)
	m := &mirror.Mirror{Dir: dir}
	if res, err := m.Push(t.Context(), tg); err != nil || res.Files != 1 {
		t.Fatalf("push with SSE-C: %+v, %v", res, err)
	}
	if res, err := m.Push(t.Context(), tg); err != nil || res.Files != 0 {
		t.Errorf("second push with SSE-C: %+v, %v; want nothing moved", res, err)
	}
	mc, err := s.Client()
	if err != nil {
		t.Fatal(err)
	}
	if obj, err := mc.GetObject(t.Context(), "sealed", "secret.txt", minio.GetObjectOptions{}); err == nil {
		if b, err := io.ReadAll(obj); err == nil {
			t.Errorf("object read without the key: %q", b)
		}
	}
	dir2 := t.TempDir()
	if _, err := (&mirror.Mirror{Dir: dir2}).Pull(t.Context(), tg); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(dir2, "secret.txt")); string(b) != "sealed bytes" {
		t.Errorf("pulled with the key: %q", b)
	}
}
