// Package registry runs a real OCI registry (distribution/distribution v3)
// in-process on 127.0.0.1 for end-to-end tests, and counts the requests it
// serves, so that a test can tell how many blobs and manifests a guest
// downloaded.
//
// A QEMU guest with user networking reaches it at GuestAddr (10.0.2.2 is
// the host's loopback as seen from the guest). It speaks plain HTTP: pull
// from it with --tls-verify=false, or list it as insecure in
// registries.conf.
package registry

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/distribution/distribution/v3/configuration"
	"github.com/distribution/distribution/v3/registry/handlers"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
	"github.com/sirupsen/logrus"
)

// Kind classifies a request.
type Kind string

// The kinds of requests the registry counts.
const (
	BlobGET      Kind = "blob GET"
	BlobHEAD     Kind = "blob HEAD"
	ManifestGET  Kind = "manifest GET"
	ManifestHEAD Kind = "manifest HEAD"
	Other        Kind = "other"
)

var (
	// blobPath matches /v2/<name>/blobs/<digest>, not .../blobs/uploads/.
	blobPath     = regexp.MustCompile(`^/v2/(.+)/blobs/([a-z0-9]+(?:[+._-][a-z0-9]+)*:[a-zA-Z0-9=_-]+)$`)
	manifestPath = regexp.MustCompile(`^/v2/(.+)/manifests/([^/]+)$`)
)

// kindOf tells what a request asks for.
func kindOf(method, path string) Kind {
	switch {
	case method == http.MethodGet && blobPath.MatchString(path):
		return BlobGET
	case method == http.MethodHead && blobPath.MatchString(path):
		return BlobHEAD
	case method == http.MethodGet && manifestPath.MatchString(path):
		return ManifestGET
	case method == http.MethodHead && manifestPath.MatchString(path):
		return ManifestHEAD
	}
	return Other
}

// Request is one served request.
type Request struct {
	Method string
	Path   string
	Kind   Kind
	Status int
	Bytes  int64 // response body bytes written
	At     time.Time
}

func (r Request) String() string {
	return fmt.Sprintf("%s %s -> %d (%d bytes)", r.Method, r.Path, r.Status, r.Bytes)
}

// Counts sums the requests served since the last reset.
type Counts struct {
	Requests      int
	BlobGETs      int
	BlobHEADs     int
	ManifestGETs  int
	ManifestHEADs int
	BlobBytes     int64 // body bytes of blob GETs
}

// Registry is a running registry.
type Registry struct {
	app    *handlers.App
	srv    *http.Server
	ln     net.Listener
	served chan error    // Serve's result
	closed chan struct{} // closed by Close
	once   sync.Once     // runs Close
	err    error         // Close's result

	mu     sync.Mutex
	counts Counts
	log    []Request
}

// Option changes how Start serves.
type Option func(*options)

type options struct{ cert *tls.Certificate }

// TLS makes the registry speak https with cert.
func TLS(cert tls.Certificate) Option { return func(o *options) { o.cert = &cert } }

// Start serves a registry on a free port of 127.0.0.1 until Close or the
// end of ctx. It stores its data in dir, or in memory if dir is "".
func Start(ctx context.Context, dir string, opts ...Option) (*Registry, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	// distribution logs through logrus' standard logger, an Info line per
	// request and an Error line per 404 (which every push starts with):
	// silence it, Requests has each request's status.
	logrus.SetLevel(logrus.FatalLevel)

	storage := configuration.Storage{
		"inmemory": configuration.Parameters{},
		// Background upload purging would only add goroutines and logs.
		"maintenance": configuration.Parameters{
			"uploadpurging": map[any]any{"enabled": false},
		},
		"delete": configuration.Parameters{"enabled": true},
	}
	if dir != "" {
		delete(storage, "inmemory")
		storage["filesystem"] = configuration.Parameters{"rootdirectory": dir}
	}
	cfg := &configuration.Configuration{Storage: storage}
	// A fixed secret avoids the warning about a generated one; it only
	// signs upload state, which never leaves this process.
	cfg.HTTP.Secret = "b2c-ci"

	app, err := newApp(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("start registry: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		app.Shutdown()
		return nil, fmt.Errorf("start registry: %w", err)
	}
	if o.cert != nil {
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{*o.cert}})
	}
	r := &Registry{app: app, ln: ln, served: make(chan error, 1), closed: make(chan struct{})}
	r.srv = &http.Server{Handler: r.count(app), ReadHeaderTimeout: time.Minute}
	go func() { r.served <- r.srv.Serve(ln) }()
	go func() {
		select {
		case <-ctx.Done():
			r.Close()
		case <-r.closed:
		}
	}()
	return r, nil
}

// newApp builds the registry application, which panics on bad
// configuration or storage.
func newApp(ctx context.Context, cfg *configuration.Configuration) (app *handlers.App, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("distribution: %v", p)
		}
	}()
	return handlers.NewApp(ctx, cfg), nil
}

// count wraps the registry handler to count and log each request.
func (r *Registry) count(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		cw := &countingWriter{ResponseWriter: w, status: http.StatusOK}
		at := time.Now()
		next.ServeHTTP(cw, req)
		rec := Request{
			Method: req.Method,
			Path:   req.URL.Path,
			Kind:   kindOf(req.Method, req.URL.Path),
			Status: cw.status,
			Bytes:  cw.bytes,
			At:     at,
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		r.log = append(r.log, rec)
		r.counts.Requests++
		switch rec.Kind {
		case BlobGET:
			r.counts.BlobGETs++
			r.counts.BlobBytes += rec.Bytes
		case BlobHEAD:
			r.counts.BlobHEADs++
		case ManifestGET:
			r.counts.ManifestGETs++
		case ManifestHEAD:
			r.counts.ManifestHEADs++
		}
	})
}

// countingWriter records the status and body size of a response.
type countingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	wrote  bool
}

func (w *countingWriter) WriteHeader(code int) {
	if !w.wrote {
		w.status, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(b []byte) (int, error) {
	w.wrote = true
	n, err := w.ResponseWriter.Write(b)
	w.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the real writer (Flush).
func (w *countingWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// Addr is where the host reaches the registry: 127.0.0.1:PORT.
func (r *Registry) Addr() string { return r.ln.Addr().String() }

// Port is the registry's TCP port.
func (r *Registry) Port() int { return r.ln.Addr().(*net.TCPAddr).Port }

// GuestAddr is where a QEMU guest with user networking reaches the
// registry: 10.0.2.2:PORT.
func (r *Registry) GuestAddr() string { return "10.0.2.2:" + strconv.Itoa(r.Port()) }

// Counts returns the counts since the last reset.
func (r *Registry) Counts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.counts
}

// TakeCounts returns the counts since the last reset and resets them and
// the request log, so that a test measures one boot at a time.
func (r *Registry) TakeCounts() Counts {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := r.counts
	r.counts, r.log = Counts{}, nil
	return c
}

// Reset zeroes the counts and empties the request log.
func (r *Registry) Reset() { r.TakeCounts() }

// BlobGETs returns how many blob downloads were asked since the last reset.
func (r *Registry) BlobGETs() int { return r.Counts().BlobGETs }

// ManifestGETs returns how many manifest downloads were asked since the
// last reset.
func (r *Registry) ManifestGETs() int { return r.Counts().ManifestGETs }

// Requests returns the requests served since the last reset, in the order
// they completed.
func (r *Registry) Requests() []Request {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Request(nil), r.log...)
}

// Close stops the registry at once, dropping open connections.
func (r *Registry) Close() error {
	r.once.Do(func() {
		err := r.srv.Close()
		r.app.Shutdown()
		if serr := <-r.served; serr != nil && !errors.Is(serr, http.ErrServerClosed) {
			err = errors.Join(err, serr)
		}
		if err != nil {
			r.err = fmt.Errorf("close registry: %w", err)
		}
		close(r.closed)
	})
	return r.err
}
