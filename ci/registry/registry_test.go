package registry

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/b2c-dev/b2c/ci/tlsca"
)

func TestKindOf(t *testing.T) {
	const dgst = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	for _, tt := range []struct {
		method, path string
		want         Kind
	}{
		{"GET", "/v2/busybox/blobs/" + dgst, BlobGET},
		{"GET", "/v2/b2c/test/busybox/blobs/" + dgst, BlobGET},
		{"HEAD", "/v2/busybox/blobs/" + dgst, BlobHEAD},
		{"GET", "/v2/busybox/manifests/latest", ManifestGET},
		{"GET", "/v2/b2c/busybox/manifests/" + dgst, ManifestGET},
		{"HEAD", "/v2/busybox/manifests/latest", ManifestHEAD},
		{"POST", "/v2/busybox/blobs/uploads/", Other},
		{"GET", "/v2/busybox/blobs/uploads/1234", Other},
		{"PUT", "/v2/busybox/manifests/latest", Other},
		{"GET", "/v2/", Other},
		{"GET", "/v2/busybox/tags/list", Other},
	} {
		if got := kindOf(tt.method, tt.path); got != tt.want {
			t.Errorf("kindOf(%s %s) = %q, want %q", tt.method, tt.path, got, tt.want)
		}
	}
}

func get(t *testing.T, method, url string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode
}

// TestCounts pushes an image, then downloads it by hand and checks the
// counts the downloads leave.
func TestCounts(t *testing.T) {
	for _, tt := range []struct {
		name string
		dir  func(t *testing.T) string
	}{
		{"filesystem", func(t *testing.T) string { return t.TempDir() }},
		{"inmemory", func(*testing.T) string { return "" }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r, err := Start(t.Context(), tt.dir(t))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				if err := r.Close(); err != nil {
					t.Error(err)
				}
			})
			if !strings.HasPrefix(r.Addr(), "127.0.0.1:") || r.GuestAddr() != strings.Replace(r.Addr(), "127.0.0.1", "10.0.2.2", 1) {
				t.Errorf("Addr() = %s, GuestAddr() = %s", r.Addr(), r.GuestAddr())
			}

			img, err := random.Image(1000, 2)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := name.ParseReference(r.Addr()+"/test/random:latest", name.Insecure)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(ref, img, remote.WithContext(t.Context())); err != nil {
				t.Fatal(err)
			}
			pushed := r.TakeCounts()
			if pushed.Requests == 0 || pushed.BlobGETs != 0 {
				t.Errorf("counts after a push: %+v, want requests and no blob GET", pushed)
			}
			if c := r.Counts(); c != (Counts{}) || len(r.Requests()) != 0 {
				t.Errorf("after TakeCounts: %+v, %d requests", c, len(r.Requests()))
			}

			base := "http://" + r.Addr() + "/v2/test/random/"
			if got := get(t, "GET", base+"manifests/latest"); got != http.StatusOK {
				t.Errorf("GET manifest: %d", got)
			}
			if got := get(t, "HEAD", base+"manifests/latest"); got != http.StatusOK {
				t.Errorf("HEAD manifest: %d", got)
			}
			layers, err := img.Layers()
			if err != nil {
				t.Fatal(err)
			}
			var want int64
			for _, l := range layers {
				d, err := l.Digest()
				if err != nil {
					t.Fatal(err)
				}
				size, err := l.Size()
				if err != nil {
					t.Fatal(err)
				}
				want += size
				if got := get(t, "GET", base+"blobs/"+d.String()); got != http.StatusOK {
					t.Errorf("GET blob %s: %d", d, got)
				}
				if got := get(t, "HEAD", base+"blobs/"+d.String()); got != http.StatusOK {
					t.Errorf("HEAD blob %s: %d", d, got)
				}
			}
			if got := get(t, "GET", base+"manifests/nope"); got != http.StatusNotFound {
				t.Errorf("GET missing manifest: %d", got)
			}

			wantCounts := Counts{Requests: 7, BlobGETs: 2, BlobHEADs: 2, ManifestGETs: 2, ManifestHEADs: 1, BlobBytes: want}
			if got := r.Counts(); got != wantCounts {
				t.Errorf("Counts() = %+v, want %+v", got, wantCounts)
			}
			if r.BlobGETs() != 2 || r.ManifestGETs() != 2 {
				t.Errorf("BlobGETs() = %d, ManifestGETs() = %d", r.BlobGETs(), r.ManifestGETs())
			}
			reqs := r.Requests()
			if len(reqs) != 7 || reqs[0].Kind != ManifestGET || reqs[6].Status != http.StatusNotFound {
				t.Errorf("Requests() = %v", reqs)
			}
			r.Reset()
			if r.BlobGETs() != 0 {
				t.Errorf("BlobGETs() after Reset = %d", r.BlobGETs())
			}
		})
	}
}

func TestCloseOnContextEnd(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	r, err := Start(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := get(t, "GET", "http://"+r.Addr()+"/v2/"); got != http.StatusOK {
		t.Errorf("GET /v2/: %d", got)
	}
	cancel()
	<-r.closed
	if _, err := http.Get("http://" + r.Addr() + "/v2/"); err == nil {
		t.Error("registry still serves after its context ended")
	}
	if err := r.Close(); err != nil {
		t.Errorf("Close after the context ended: %v", err)
	}
}

func TestTLS(t *testing.T) {
	cert, err := tlsca.New("registry test")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Start(t.Context(), "", TLS(cert.TLS))
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: cert.Pool}}, Timeout: 10 * time.Second}
	resp, err := c.Get("https://" + r.Addr() + "/v2/")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /v2/ over TLS: %s", resp.Status)
	}
	if resp, err := (&http.Client{Timeout: 10 * time.Second}).Get("https://" + r.Addr() + "/v2/"); err == nil {
		resp.Body.Close()
		t.Error("a client that does not trust the certificate got an answer")
	}
}
