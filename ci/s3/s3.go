// Package s3 runs a real MinIO server on 127.0.0.1 for the tests of b2c's
// S3-mirrored volumes. The server is built from github.com/minio/minio with
// the Go module proxy the first time a test needs it, into the user's
// cache directory (nothing of it is committed), and started on a free
// port with a temporary data directory and the test's keys.
//
// A QEMU guest with user networking reaches it at GuestURL (10.0.2.2 is
// the host's loopback as seen from the guest).
package s3

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/b2c-dev/b2c/ci/netlab"
	"github.com/b2c-dev/b2c/ci/tlsca"
)

// Version is the MinIO server built. The project tags releases as
// RELEASE.*, not semver: the module proxy serves pseudo-versions only.
const Version = "v0.0.0-20260212201848-7aac2a2c5b7c"

// Binary returns the path of the MinIO server, building it first when the
// cache does not hold it yet (minutes on two cores: it is a large program).
func Binary(ctx context.Context) (string, error) {
	cache, err := os.UserCacheDir()
	if err != nil {
		return "", err
	}
	dir := filepath.Join(cache, "b2c-ci", "minio-"+Version)
	bin := filepath.Join(dir, "minio")
	if _, err := os.Stat(bin); err == nil {
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// One build at a time: make e2e builds it in the background while
	// the first scenarios run, and an S3 scenario that comes before the
	// build ends waits for it rather than building it again.
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", fmt.Errorf("lock %s: %w", lock.Name(), err)
	}
	if _, err := os.Stat(bin); err == nil {
		return bin, nil // built while we waited
	}
	// go install into a private GOBIN, then rename: two test binaries
	// building at once each end with a whole file.
	tmp, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	cmd := exec.CommandContext(ctx, "go", "install", "github.com/minio/minio@"+Version)
	// Outside any module, so that the ci module's requirements and flags
	// do not apply to MinIO's.
	cmd.Dir = tmp
	cmd.Env = append(os.Environ(), "GOBIN="+tmp, "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build MinIO %s: %v: %s", Version, err, tail(out))
	}
	if err := os.Rename(filepath.Join(tmp, "minio"), bin); err != nil {
		return "", err
	}
	return bin, nil
}

func tail(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > 20 {
		lines = lines[len(lines)-20:]
	}
	return strings.Join(lines, "\n")
}

// Server is a running MinIO.
type Server struct {
	AccessKey, SecretKey string
	port                 int
	// CA is the certificate pool that trusts a TLS server.
	CA   *x509.CertPool
	tls  bool
	cmd  *exec.Cmd
	done chan error
	log  string
}

// Option configures Start.
type Option func(*Server)

// TLS makes the server speak https with a certificate for 127.0.0.1 and
// 10.0.2.2 from a CA of its own (see CA): SSE-C needs it.
func TLS() Option { return func(s *Server) { s.tls = true } }

// Start runs MinIO on 127.0.0.1 with its data in dir and the given root
// keys, and returns once it answers.
func Start(ctx context.Context, dir, accessKey, secretKey string, opts ...Option) (*Server, error) {
	bin, err := Binary(ctx)
	if err != nil {
		return nil, err
	}
	lo := netip.AddrFrom4([4]byte{127, 0, 0, 1})
	port, err := netlab.FreePort(lo)
	if err != nil {
		return nil, err
	}
	console, err := netlab.FreePort(lo)
	if err != nil {
		return nil, err
	}
	s := &Server{AccessKey: accessKey, SecretKey: secretKey, port: port, done: make(chan error, 1), log: filepath.Join(dir, "minio.log")}
	for _, o := range opts {
		o(s)
	}
	args := []string{"server", "--quiet", "--address", s.Addr(), "--console-address", "127.0.0.1:" + strconv.Itoa(console)}
	if s.tls {
		certs := filepath.Join(dir, "certs")
		cert, err := tlsca.New("b2c test MinIO")
		if err != nil {
			return nil, err
		}
		if err := cert.Write(certs); err != nil {
			return nil, err
		}
		s.CA = cert.Pool
		args = append(args, "--certs-dir", certs)
	}
	logf, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	data := filepath.Join(dir, "data")
	s.cmd = exec.Command(bin, append(args, data)...)
	s.cmd.Env = append(os.Environ(), "MINIO_ROOT_USER="+accessKey, "MINIO_ROOT_PASSWORD="+secretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=1")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start MinIO: %w", err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	if err := s.waitReady(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// waitReady polls the server until a signed request succeeds, or it
// exits: its health endpoint answers before its object layer is up
// ("Server not initialized yet").
func (s *Server) waitReady(ctx context.Context) error {
	mc, err := s.Client()
	if err != nil {
		return err
	}
	for {
		if _, err := mc.ListBuckets(ctx); err == nil {
			return nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			b, _ := os.ReadFile(s.log)
			return fmt.Errorf("MinIO exited (%v): %s", err, tail(b))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Addr is the server's host:port on the host.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

func (s *Server) scheme() string {
	if s.tls {
		return "https://"
	}
	return "http://"
}

// URL is the server's URL on the host.
func (s *Server) URL() string { return s.scheme() + s.Addr() }

// GuestURL is the server's URL from a QEMU guest with user networking.
func (s *Server) GuestURL() string { return s.scheme() + "10.0.2.2:" + strconv.Itoa(s.port) }

// Transport is an HTTP transport that trusts the server.
func (s *Server) Transport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if s.tls {
		tr.TLSClientConfig = &tls.Config{RootCAs: s.CA}
	}
	return tr
}

// Log returns what the server printed.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	return string(b)
}

// Client returns a minio-go client with the root keys.
func (s *Server) Client() (*minio.Client, error) {
	return minio.New(s.Addr(), &minio.Options{Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: s.tls, Transport: s.Transport()})
}

// GuestPresigned returns a presigned GET and PUT URL for key in bucket,
// as a guest reaches the server (the signature covers the host name), for
// a plain HTTP client there: the raw transfer b2c's mirror is measured
// against. The signing is local: the client never connects.
func (s *Server) GuestPresigned(ctx context.Context, bucket, getKey, putKey string, expiry time.Duration) (get, put string, err error) {
	mc, err := minio.New("10.0.2.2:"+strconv.Itoa(s.port), &minio.Options{
		Creds: credentials.NewStaticV4(s.AccessKey, s.SecretKey, ""), Secure: s.tls,
		// With the region given, presigning asks the server nothing.
		Region: "us-east-1",
	})
	if err != nil {
		return "", "", fmt.Errorf("presign: %w", err)
	}
	g, err := mc.PresignedGetObject(ctx, bucket, getKey, expiry, nil)
	if err != nil {
		return "", "", fmt.Errorf("presign GET %s/%s: %w", bucket, getKey, err)
	}
	p, err := mc.PresignedPutObject(ctx, bucket, putKey, expiry)
	if err != nil {
		return "", "", fmt.Errorf("presign PUT %s/%s: %w", bucket, putKey, err)
	}
	return g.String(), p.String(), nil
}

// Close stops the server.
func (s *Server) Close() error {
	if s.cmd == nil || s.cmd.Process == nil {
		return nil
	}
	s.cmd.Process.Signal(os.Interrupt)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
	return nil
}

// File is one file of a test set.
type File struct {
	Name string
	Data []byte
}

// FileSet returns n files of size bytes each, named f000, f001, ..., of
// pseudo-random bytes that do not compress.
func FileSet(n, size int) []File {
	r := rand.New(rand.NewPCG(uint64(n), uint64(size)))
	out := make([]File, n)
	for i := range out {
		b := make([]byte, size)
		for j := 0; j+8 <= len(b); j += 8 {
			binary.LittleEndian.PutUint64(b[j:], r.Uint64())
		}
		out[i] = File{Name: fmt.Sprintf("f%03d", i), Data: b}
	}
	return out
}

// RawTransfer puts the files into bucket, then gets them back, each with
// workers parallel minio-go calls, and returns how long each half took:
// the reference a mirror's throughput is compared with.
func RawTransfer(ctx context.Context, mc *minio.Client, bucket string, files []File, workers int) (put, get time.Duration, err error) {
	each := func(fn func(File) error) (time.Duration, error) {
		start := time.Now()
		work := make(chan File)
		errs := make(chan error, len(files))
		var wg sync.WaitGroup
		for i := 0; i < workers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for f := range work {
					if err := fn(f); err != nil {
						errs <- err
					}
				}
			}()
		}
		for _, f := range files {
			work <- f
		}
		close(work)
		wg.Wait()
		close(errs)
		return time.Since(start), <-errs
	}
	put, err = each(func(f File) error {
		_, err := mc.PutObject(ctx, bucket, f.Name, bytes.NewReader(f.Data), int64(len(f.Data)), minio.PutObjectOptions{})
		return err
	})
	if err != nil {
		return put, 0, fmt.Errorf("raw put: %w", err)
	}
	get, err = each(func(f File) error {
		obj, err := mc.GetObject(ctx, bucket, f.Name, minio.GetObjectOptions{})
		if err != nil {
			return err
		}
		defer obj.Close()
		n, err := io.Copy(io.Discard, obj)
		if err == nil && n != int64(len(f.Data)) {
			err = fmt.Errorf("%s: got %d bytes, want %d", f.Name, n, len(f.Data))
		}
		return err
	})
	if err != nil {
		return put, get, fmt.Errorf("raw get: %w", err)
	}
	return put, get, nil
}

// Contents maps each key of a bucket to its bytes, for tests to compare
// with what they expect.
func Contents(ctx context.Context, mc *minio.Client, bucket string) (map[string]string, error) {
	out := map[string]string{}
	for o := range mc.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", bucket, o.Err)
		}
		obj, err := mc.GetObject(ctx, bucket, o.Key, minio.GetObjectOptions{})
		if err != nil {
			return nil, err
		}
		b, err := io.ReadAll(obj)
		obj.Close()
		if err != nil {
			return nil, fmt.Errorf("get %s/%s: %w", bucket, o.Key, err)
		}
		out[o.Key] = string(b)
	}
	return out, nil
}
