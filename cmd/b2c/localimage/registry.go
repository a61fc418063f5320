package localimage

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// GuestHost is the host's 127.0.0.1 as a guest on QEMU's user network
// sees it.
const GuestHost = "10.0.2.2"

// repo is where the served image lives in the registry.
const repo = "b2c/local:latest"

// Registry serves one image to the guest.
type Registry struct {
	srv  *http.Server
	port int
	done chan struct{}

	layers map[string]bool // the image's layer digests

	mu    sync.Mutex
	stats Stats
}

// Stats counts what the registry served.
type Stats struct {
	Layers     int   // the image's layers
	LayerGETs  int   // layer downloads the guest asked for
	LayerBytes int64 // what they sent
}

func (s Stats) String() string {
	return fmt.Sprintf("%d layer downloads of %d layers, %d bytes", s.LayerGETs, s.Layers, s.LayerBytes)
}

// Serve starts a registry on 127.0.0.1 and a free port, with its blobs
// in dir, and pushes img to it. Close stops it.
func Serve(ctx context.Context, img v1.Image, dir string) (*Registry, error) {
	ls, err := img.Layers()
	if err != nil {
		return nil, fmt.Errorf("read image layers: %w", err)
	}
	r := &Registry{layers: map[string]bool{}, done: make(chan struct{})}
	for _, l := range ls {
		d, err := l.Digest()
		if err != nil {
			return nil, fmt.Errorf("read image layers: %w", err)
		}
		r.layers[d.String()] = true
	}
	r.stats.Layers = len(ls)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("start local registry: %w", err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("start local registry: %w", err)
	}
	r.port = ln.Addr().(*net.TCPAddr).Port
	h := registry.New(registry.WithBlobHandler(registry.NewDiskBlobHandler(dir)), registry.Logger(log.New(io.Discard, "", 0)))
	r.srv = &http.Server{Handler: r.count(h), ReadHeaderTimeout: time.Minute}
	go func() {
		defer close(r.done)
		_ = r.srv.Serve(ln)
	}()

	ref, err := name.ParseReference(r.Addr()+"/"+repo, name.Insecure)
	if err != nil {
		r.Close()
		return nil, err
	}
	if err := remote.Write(ref, img, remote.WithContext(ctx)); err != nil {
		r.Close()
		return nil, fmt.Errorf("push the image to the local registry: %w", err)
	}
	r.mu.Lock()
	r.stats = Stats{Layers: len(ls)} // the push's own requests do not count
	r.mu.Unlock()
	return r, nil
}

// GuestRef is the image's name for the guest, which pulls it over plain
// HTTP (--tls-verify=false).
func (r *Registry) GuestRef() string { return fmt.Sprintf("%s:%d/%s", GuestHost, r.port, repo) }

// Addr is the registry's address on the host, 127.0.0.1:PORT.
func (r *Registry) Addr() string { return fmt.Sprintf("127.0.0.1:%d", r.port) }

// Stats returns what the registry served since the image was pushed.
func (r *Registry) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Close stops the registry.
func (r *Registry) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := r.srv.Shutdown(ctx)
	<-r.done
	if errors.Is(err, context.DeadlineExceeded) {
		return r.srv.Close()
	}
	return err
}

// count wraps h to count the layer blobs it sends.
func (r *Registry) count(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodGet || !r.isLayer(req.URL.Path) {
			h.ServeHTTP(w, req)
			return
		}
		cw := &countingWriter{ResponseWriter: w}
		h.ServeHTTP(cw, req)
		r.mu.Lock()
		r.stats.LayerGETs++
		r.stats.LayerBytes += cw.n
		r.mu.Unlock()
	})
}

// isLayer tells whether path is /v2/NAME/blobs/DIGEST of a layer.
func (r *Registry) isLayer(path string) bool {
	i := strings.LastIndex(path, "/blobs/")
	return strings.HasPrefix(path, "/v2/") && i >= 0 && r.layers[path[i+len("/blobs/"):]]
}

type countingWriter struct {
	http.ResponseWriter
	n int64
}

func (w *countingWriter) Write(b []byte) (int, error) {
	n, err := w.ResponseWriter.Write(b)
	w.n += int64(n)
	return n, err
}
