// Package mirror keeps a volume's directory and an S3 bucket (or a prefix
// in it) in step, as b2c.volume's mirror options ask (docs/cmdline.md,
// "Volumes and S3"): it lists both sides, plans which files to pull, push
// or delete, and runs the transfers in parallel with minio-go. The planner
// is a pure function of the two listings and the options, so every mirror
// rule is tested without a server.
package mirror

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Entry is one file of a listing, local or remote.
type Entry struct {
	Path    string    // relative, slash-separated
	Size    int64     //
	ModTime time.Time // remote: the mtime in the object's metadata, else its upload time
	Mode    uint32    // permission bits; 0: unknown
	// ETag is the object's ETag on the remote side; on the local side, the
	// file's MD5 in hex when it was computed (see NeedHash).
	ETag string
}

// Op is what an Action does.
type Op int

// The operations of a plan.
const (
	Pull Op = iota
	Push
	DeleteLocal
	DeleteRemote
)

func (o Op) String() string {
	return [...]string{"pull", "push", "delete-local", "delete-remote"}[o]
}

// Action is one transfer or deletion. Entry is the source's entry for a
// transfer, the doomed one for a deletion.
type Action struct {
	Op    Op
	Entry Entry
}

// Options are the mirror options of one b2c.volume.
type Options struct {
	Overwrite bool     // replace files that differ on the destination
	Remove    bool     // delete destination files absent from the source
	Preserve  bool     // keep the mode (and mtime) in the object metadata
	Exclude   []string // globs of paths neither transferred nor deleted
}

// Plan is the outcome of comparing two listings.
type Plan struct {
	Actions []Action
	// Conflicts are the paths that differ on both sides but were left
	// alone, because overwrite was not asked for.
	Conflicts []string
}

// Excluded reports whether p (relative, slash-separated) matches one of
// the globs: against the whole path, its base name, or one of its parent
// directories, so that *.log skips logs at any depth and tmp skips a
// whole directory.
func Excluded(p string, globs []string) bool {
	for _, g := range globs {
		if ok, _ := path.Match(g, p); ok {
			return true
		}
		if ok, _ := path.Match(g, path.Base(p)); ok {
			return true
		}
		for d := path.Dir(p); d != "." && d != "/"; d = path.Dir(d) {
			if ok, _ := path.Match(g, d); ok {
				return true
			}
			if ok, _ := path.Match(g, path.Base(d)); ok {
				return true
			}
		}
	}
	return false
}

var md5RE = regexp.MustCompile(`^[0-9a-f]{32}$`)

// plainMD5 reports whether an ETag is the MD5 of the object's bytes: it
// is not for multipart uploads ("...-N") or server-side encrypted ones,
// which the caller tells with sse.
func plainMD5(etag string, sse bool) bool {
	return !sse && md5RE.MatchString(strings.Trim(etag, `"`))
}

// same reports whether a and b hold the same bytes as far as the listings
// tell: equal sizes, and equal MD5s when both are known, else equal mtimes.
func same(a, b Entry, sse bool) bool {
	if a.Size != b.Size {
		return false
	}
	if a.ETag != "" && b.ETag != "" && plainMD5(a.ETag, sse) && plainMD5(b.ETag, sse) {
		return strings.Trim(a.ETag, `"`) == strings.Trim(b.ETag, `"`)
	}
	return a.ModTime.Equal(b.ModTime)
}

// NeedHash returns the local paths whose MD5 would settle the comparison:
// same size as the object, a different mtime, and an object ETag that is
// an MD5. Hashing only those keeps a touched file from moving again.
func NeedHash(local, remote []Entry, sse bool) []string {
	r := index(remote)
	var out []string
	for _, l := range local {
		o, ok := r[l.Path]
		if ok && o.Size == l.Size && !o.ModTime.Equal(l.ModTime) && plainMD5(o.ETag, sse) {
			out = append(out, l.Path)
		}
	}
	return out
}

func index(list []Entry) map[string]Entry {
	m := make(map[string]Entry, len(list))
	for _, e := range list {
		m[e.Path] = e
	}
	return m
}

// PlanPull plans a pull of remote onto local.
func PlanPull(local, remote []Entry, o Options, sse bool) Plan {
	return plan(remote, local, Pull, DeleteLocal, o, sse, nil)
}

// PlanPush plans a push of local onto remote. ours lists the objects this
// run already pushed: they are replaced when they change even without
// overwrite, since b2c wrote them (push_on=changes pushes a file each time
// it changes).
func PlanPush(local, remote []Entry, o Options, sse bool, ours map[string]bool) Plan {
	return plan(local, remote, Push, DeleteRemote, o, sse, ours)
}

func plan(src, dst []Entry, copyOp, delOp Op, o Options, sse bool, ours map[string]bool) Plan {
	var p Plan
	d := index(dst)
	s := index(src)
	for _, e := range src {
		if Excluded(e.Path, o.Exclude) {
			continue
		}
		t, ok := d[e.Path]
		switch {
		case !ok:
			p.Actions = append(p.Actions, Action{copyOp, e})
		case same(e, t, sse):
		case o.Overwrite || ours[e.Path]:
			p.Actions = append(p.Actions, Action{copyOp, e})
		default:
			p.Conflicts = append(p.Conflicts, e.Path)
		}
	}
	if o.Remove {
		for _, e := range dst {
			if _, ok := s[e.Path]; !ok && !Excluded(e.Path, o.Exclude) {
				p.Actions = append(p.Actions, Action{delOp, e})
			}
		}
	}
	sort.Slice(p.Actions, func(i, j int) bool {
		if p.Actions[i].Op != p.Actions[j].Op {
			return p.Actions[i].Op < p.Actions[j].Op
		}
		return p.Actions[i].Entry.Path < p.Actions[j].Entry.Path
	})
	sort.Strings(p.Conflicts)
	return p
}

// The object metadata b2c writes. The mtime is always kept: it is what
// the next comparison reads. The mode only with preserve.
const (
	metaMtime = "B2c-Mtime" // Unix time in nanoseconds
	metaMode  = "B2c-Mode"  // octal permission bits
	// mcAttrs is what mc mirror --preserve writes, read so that buckets
	// filled by the original boot2container keep their attributes.
	mcAttrs = "Mc-Attrs"
)

// Metadata returns the object metadata of a local entry.
func Metadata(e Entry, preserve bool) map[string]string {
	m := map[string]string{metaMtime: strconv.FormatInt(e.ModTime.UnixNano(), 10)}
	if preserve && e.Mode != 0 {
		m[metaMode] = fmt.Sprintf("%o", e.Mode&0o7777)
	}
	return m
}

// FromMetadata completes a remote entry from its user metadata (keys with
// or without X-Amz-Meta-, any case): the mtime and mode b2c or mc stored.
// Without them, the entry keeps its upload time and an unknown mode.
func FromMetadata(e Entry, meta map[string]string) Entry {
	get := func(k string) string {
		for mk, v := range meta {
			mk = strings.TrimPrefix(strings.ToLower(mk), "x-amz-meta-")
			if mk == strings.ToLower(k) {
				return v
			}
		}
		return ""
	}
	for _, kv := range strings.Split(get(mcAttrs), "#") {
		k, v, _ := strings.Cut(kv, ":")
		switch k {
		case "mtime":
			if n, err := strconv.ParseInt(v, 10, 64); err == nil {
				e.ModTime = time.Unix(n, 0)
			}
		case "mode":
			if n, err := strconv.ParseUint(v, 10, 32); err == nil {
				e.Mode = uint32(n) & 0o7777
			}
		}
	}
	if n, err := strconv.ParseInt(get(metaMtime), 10, 64); err == nil {
		e.ModTime = time.Unix(0, n)
	}
	if n, err := strconv.ParseUint(get(metaMode), 8, 32); err == nil {
		e.Mode = uint32(n) & 0o7777
	}
	return e
}

// Place is where a volume mirrors to: ALIAS/BUCKET[/PREFIX].
type Place struct {
	Alias, Bucket, Prefix string
}

// ParsePlace reads ALIAS/BUCKET[/PREFIX].
func ParsePlace(s string) (Place, error) {
	parts := strings.SplitN(s, "/", 3)
	if len(parts) < 2 || parts[0] == "" || parts[1] == "" {
		return Place{}, fmt.Errorf("%q is not ALIAS/BUCKET[/PATH]", s)
	}
	p := Place{Alias: parts[0], Bucket: parts[1]}
	if len(parts) == 3 {
		p.Prefix = strings.Trim(parts[2], "/")
	}
	return p, nil
}

func (p Place) String() string {
	s := p.Alias + "/" + p.Bucket
	if p.Prefix != "" {
		s += "/" + p.Prefix
	}
	return s
}

// Key is the object key of a relative path.
func (p Place) Key(rel string) string {
	if p.Prefix == "" {
		return rel
	}
	return p.Prefix + "/" + rel
}

// Rel is the relative path of an object key, false for a key outside the
// prefix, and for a key that is no clean relative path ("../x", "/x",
// "a//b"): written as a file, it would land outside the volume, or
// somewhere else than it says.
func (p Place) Rel(key string) (string, bool) {
	rel, ok := key, true
	if p.Prefix != "" {
		rel, ok = strings.CutPrefix(key, p.Prefix+"/")
	}
	return rel, ok && fs.ValidPath(rel) && rel != "."
}
