package mirror

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
	"github.com/minio/minio-go/v7/pkg/encrypt"
)

// partPrefix names the files a pull is writing: they are renamed into
// place when complete, and never listed or pushed.
const partPrefix = ".b2c-part-"

// Client is the S3 client of one b2c.minio alias.
type Client struct {
	Alias string
	mc    *minio.Client
}

// NewClient makes the client of alias for an endpoint URL (http:// or
// https://, no path). tr carries the proxy; nil: Go's default transport.
func NewClient(alias, rawURL, accessKey, secretKey string, tr http.RoundTripper) (*Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		// The URL may hold credentials: never quote it.
		return nil, fmt.Errorf("b2c.minio %s: the URL is not http(s)://HOST[:PORT]", alias)
	}
	mc, err := minio.New(u.Host, &minio.Options{
		Creds:     credentials.NewStaticV4(accessKey, secretKey, ""),
		Secure:    u.Scheme == "https",
		Transport: tr,
	})
	if err != nil {
		return nil, fmt.Errorf("b2c.minio %s: %w", alias, err)
	}
	return &Client{Alias: alias, mc: mc}, nil
}

// SSECKey reads encrypt_key: 32 bytes, as they are or in base64.
func SSECKey(s string) (encrypt.ServerSide, error) {
	key := []byte(s)
	if len(key) != 32 {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil || len(b) != 32 {
			return nil, errors.New("encrypt_key is not 32 bytes, as they are or in base64")
		}
		key = b
	}
	return encrypt.NewSSEC(key)
}

// Target is one side of a mirror: a place on an alias's server, and the
// SSE-C key of its objects (nil: none).
type Target struct {
	Client *Client
	Place  Place
	SSE    encrypt.ServerSide
}

func (t Target) String() string { return t.Place.String() }

// Result counts what a pull or a push did.
type Result struct {
	Files, Deleted int
	Bytes          int64
	Conflicts      []string
}

// Mirror mirrors one volume's directory.
type Mirror struct {
	Dir     string
	Opts    Options
	Workers int // parallel transfers; 0: 8
	// Progress, if set, is called after each file transferred or deleted:
	// many small files move few bytes, and still make progress.
	Progress func()

	mu         sync.Mutex // one pull or push at a time
	ours       sync.Map   // paths this run pushed: path -> true
	pullFailed bool       // under mu
}

// ListLocal lists the regular files under dir. Links, devices and the
// parts of unfinished pulls are not mirrored.
func ListLocal(dir string) ([]Entry, error) {
	var out []Entry
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p != dir {
				return nil // deleted while we walked
			}
			return err
		}
		if !d.Type().IsRegular() || strings.HasPrefix(d.Name(), partPrefix) {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		out = append(out, Entry{Path: filepath.ToSlash(rel), Size: info.Size(), ModTime: info.ModTime(), Mode: uint32(info.Mode().Perm())})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", dir, err)
	}
	return out, nil
}

// ListRemote lists the objects under t's place, with the mtime and mode
// from their metadata (MinIO's listing returns it; other servers' leave
// the upload time).
func ListRemote(ctx context.Context, t Target) ([]Entry, error) {
	prefix := ""
	if t.Place.Prefix != "" {
		prefix = t.Place.Prefix + "/"
	}
	var out []Entry
	for o := range t.Client.mc.ListObjects(ctx, t.Place.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true, WithMetadata: true}) {
		if o.Err != nil {
			return nil, fmt.Errorf("list %s: %w", t, o.Err)
		}
		rel, ok := t.Place.Rel(o.Key)
		if !ok || strings.HasSuffix(rel, "/") {
			continue // a "directory" marker
		}
		e := Entry{Path: rel, Size: o.Size, ModTime: o.LastModified, ETag: o.ETag}
		out = append(out, FromMetadata(e, o.UserMetadata))
	}
	return out, nil
}

func (m *Mirror) workers() int {
	if m.Workers > 0 {
		return m.Workers
	}
	return 8
}

// Pull brings t's objects into the directory.
func (m *Mirror) Pull(ctx context.Context, t Target) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	local, remote, err := m.listBoth(ctx, t)
	if err != nil {
		m.pullFailed = true
		return Result{}, err
	}
	res, err := m.run(ctx, t, PlanPull(local, remote, m.Opts, t.SSE != nil))
	if err != nil {
		m.pullFailed = true
	}
	return res, err
}

// PushDeletes says whether a push deletes the objects the directory lacks:
// with remove, unless a pull failed in this run. The directory then lacks
// what was never pulled, not what a container deleted, and a push with
// remove would destroy it.
func (m *Mirror) PushDeletes() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.Opts.Remove && !m.pullFailed
}

// Push sends the directory's changed files to t's place, creating the
// bucket if it does not exist.
func (m *Mirror) Push(ctx context.Context, t Target) (Result, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ok, err := t.Client.mc.BucketExists(ctx, t.Place.Bucket)
	if err != nil {
		return Result{}, fmt.Errorf("bucket %s/%s: %w", t.Place.Alias, t.Place.Bucket, err)
	}
	if !ok {
		if err := t.Client.mc.MakeBucket(ctx, t.Place.Bucket, minio.MakeBucketOptions{}); err != nil {
			return Result{}, fmt.Errorf("create bucket %s/%s: %w", t.Place.Alias, t.Place.Bucket, err)
		}
	}
	local, remote, err := m.listBoth(ctx, t)
	if err != nil {
		return Result{}, err
	}
	ours := map[string]bool{}
	m.ours.Range(func(k, _ any) bool { ours[k.(string)] = true; return true })
	opts := m.Opts
	opts.Remove = opts.Remove && !m.pullFailed
	return m.run(ctx, t, PlanPush(local, remote, opts, t.SSE != nil, ours))
}

// listBoth lists both sides: the remote one, then the directory with the
// MD5 of the files that need it to compare with the objects.
func (m *Mirror) listBoth(ctx context.Context, t Target) (local, remote []Entry, err error) {
	if remote, err = ListRemote(ctx, t); err != nil {
		return nil, nil, err
	}
	local, err = m.listHashed(remote, t.SSE != nil)
	return local, remote, err
}

func (m *Mirror) listHashed(remote []Entry, sse bool) ([]Entry, error) {
	local, err := ListLocal(m.Dir)
	if err != nil {
		return nil, err
	}
	need := map[string]bool{}
	for _, p := range NeedHash(local, remote, sse) {
		need[p] = true
	}
	for i, e := range local {
		if need[e.Path] {
			if sum, err := md5File(filepath.Join(m.Dir, e.Path)); err == nil {
				local[i].ETag = sum
			}
		}
	}
	return local, nil
}

func md5File(p string) (string, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := md5.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// run carries out a plan with parallel workers. Every action is tried;
// the errors are joined.
func (m *Mirror) run(ctx context.Context, t Target, p Plan) (Result, error) {
	res := Result{Conflicts: p.Conflicts}
	var files, deleted atomic.Int64
	var bytes atomic.Int64
	var mu sync.Mutex
	var errs []error
	work := make(chan Action)
	var wg sync.WaitGroup
	for i := 0; i < m.workers(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				n, err := m.do(ctx, t, a)
				if err != nil {
					mu.Lock()
					errs = append(errs, err)
					mu.Unlock()
					continue
				}
				if m.Progress != nil {
					m.Progress()
				}
				if a.Op == DeleteLocal || a.Op == DeleteRemote {
					deleted.Add(1)
				} else {
					files.Add(1)
					bytes.Add(n)
				}
			}
		}()
	}
	for _, a := range p.Actions {
		work <- a
	}
	close(work)
	wg.Wait()
	res.Files, res.Deleted, res.Bytes = int(files.Load()), int(deleted.Load()), bytes.Load()
	if len(errs) > 3 {
		errs = append(errs[:3], fmt.Errorf("and %d more errors", len(errs)-3))
	}
	return res, errors.Join(errs...)
}

func (m *Mirror) do(ctx context.Context, t Target, a Action) (int64, error) {
	rel := a.Entry.Path
	local := filepath.Join(m.Dir, filepath.FromSlash(rel))
	key := t.Place.Key(rel)
	switch a.Op {
	case Pull:
		return m.pull(ctx, t, a.Entry, local, key)
	case Push:
		return m.push(ctx, t, local, key, rel)
	case DeleteLocal:
		if err := os.Remove(local); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return 0, err
		}
		return 0, nil
	case DeleteRemote:
		if err := t.Client.mc.RemoveObject(ctx, t.Place.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
			return 0, fmt.Errorf("delete %s/%s/%s: %w", t.Place.Alias, t.Place.Bucket, key, err)
		}
		m.ours.Delete(rel)
		return 0, nil
	}
	return 0, fmt.Errorf("unknown action %v", a.Op)
}

func (m *Mirror) pull(ctx context.Context, t Target, e Entry, local, key string) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("pull %s/%s/%s: %w", t.Place.Alias, t.Place.Bucket, key, err)
	}
	if err := os.MkdirAll(filepath.Dir(local), 0o755); err != nil {
		return fail(err)
	}
	obj, err := t.Client.mc.GetObject(ctx, t.Place.Bucket, key, minio.GetObjectOptions{ServerSideEncryption: t.SSE})
	if err != nil {
		return fail(err)
	}
	defer obj.Close()
	tmp, err := os.CreateTemp(filepath.Dir(local), partPrefix)
	if err != nil {
		return fail(err)
	}
	defer os.Remove(tmp.Name()) // after the rename: a no-op
	n, err := io.Copy(tmp, obj)
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fail(err)
	}
	mode := os.FileMode(0o644)
	if m.Opts.Preserve && e.Mode != 0 {
		mode = os.FileMode(e.Mode)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return fail(err)
	}
	// The object's mtime always comes along: the next comparison reads it.
	if err := os.Chtimes(tmp.Name(), e.ModTime, e.ModTime); err != nil {
		return fail(err)
	}
	if err := os.Rename(tmp.Name(), local); err != nil {
		return fail(err)
	}
	return n, nil
}

func (m *Mirror) push(ctx context.Context, t Target, local, key, rel string) (int64, error) {
	fail := func(err error) (int64, error) {
		return 0, fmt.Errorf("push %s to %s/%s/%s: %w", rel, t.Place.Alias, t.Place.Bucket, key, err)
	}
	f, err := os.Open(local)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, nil // deleted since the listing: the next push sees it
		}
		return fail(err)
	}
	defer f.Close()
	// Stat the open file: it may have changed since the listing, and the
	// object must carry the mtime of the bytes it holds.
	info, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	e := Entry{Path: rel, Size: info.Size(), ModTime: info.ModTime(), Mode: uint32(info.Mode().Perm())}
	_, err = t.Client.mc.PutObject(ctx, t.Place.Bucket, key, io.NewSectionReader(f, 0, e.Size), e.Size, minio.PutObjectOptions{
		UserMetadata:         Metadata(e, m.Opts.Preserve),
		ServerSideEncryption: t.SSE,
		ContentType:          "application/octet-stream",
		// Over plain HTTP, minio-go signs each chunk's SHA-256 of the
		// body, which halved the push's rate in an emulated guest
		// (0.24x a plain PUT there); TCP's checksums and the ETag the
		// next listing compares guard the bytes, as over HTTPS, where
		// minio-go sends them unsigned too.
		DisableContentSha256: true,
	})
	if err != nil {
		return fail(err)
	}
	m.ours.Store(rel, true)
	return e.Size, nil
}
