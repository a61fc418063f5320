package mirror

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"
)

var t0 = time.Unix(1700000000, 123456789)

func ent(p string, size int64, mt time.Time) Entry { return Entry{Path: p, Size: size, ModTime: mt} }

// actions renders a plan as "op:path" strings, with conflicts as "conflict:path".
func actions(p Plan) []string {
	var out []string
	for _, a := range p.Actions {
		out = append(out, a.Op.String()+":"+a.Entry.Path)
	}
	for _, c := range p.Conflicts {
		out = append(out, "conflict:"+c)
	}
	return out
}

func TestPlanPush(t *testing.T) {
	later := t0.Add(time.Second)
	tests := []struct {
		name          string
		local, remote []Entry
		o             Options
		ours          map[string]bool
		want          []string
	}{
		{"new files move", []Entry{ent("a", 1, t0), ent("d/b", 2, t0)}, nil, Options{}, nil,
			[]string{"push:a", "push:d/b"}},
		{"unchanged files stay", []Entry{ent("a", 1, t0)}, []Entry{ent("a", 1, t0)}, Options{}, nil, nil},
		{"changed without overwrite is a conflict", []Entry{ent("a", 2, t0)}, []Entry{ent("a", 1, t0)}, Options{}, nil,
			[]string{"conflict:a"}},
		{"changed mtime with overwrite", []Entry{ent("a", 1, later)}, []Entry{ent("a", 1, t0)}, Options{Overwrite: true}, nil,
			[]string{"push:a"}},
		{"our own object is replaced", []Entry{ent("a", 3, later)}, []Entry{ent("a", 1, t0)}, Options{}, map[string]bool{"a": true},
			[]string{"push:a"}},
		{"extraneous objects are kept", []Entry{ent("a", 1, t0)}, []Entry{ent("a", 1, t0), ent("old", 1, t0)}, Options{}, nil, nil},
		{"remove deletes extraneous objects", []Entry{ent("a", 1, t0)}, []Entry{ent("a", 1, t0), ent("old", 1, t0)}, Options{Remove: true}, nil,
			[]string{"delete-remote:old"}},
		{"exclude skips transfers and deletions",
			[]Entry{ent("run.log", 1, t0), ent("logs/x", 1, t0), ent("out/r.log", 1, t0), ent("r.txt", 1, t0)},
			[]Entry{ent("keep.log", 1, t0), ent("gone.txt", 1, t0)},
			Options{Remove: true, Exclude: []string{"*.log", "logs"}}, nil,
			[]string{"push:r.txt", "delete-remote:gone.txt"}},
		{"same MD5 beats a different mtime",
			[]Entry{{Path: "a", Size: 1, ModTime: later, ETag: "0cc175b9c0f1b6a831c399e269772661"}},
			[]Entry{{Path: "a", Size: 1, ModTime: t0, ETag: `"0cc175b9c0f1b6a831c399e269772661"`}},
			Options{Overwrite: true}, nil, nil},
		{"multipart ETag falls back to the mtime",
			[]Entry{{Path: "a", Size: 1, ModTime: later, ETag: "0cc175b9c0f1b6a831c399e269772661"}},
			[]Entry{{Path: "a", Size: 1, ModTime: t0, ETag: "0cc175b9c0f1b6a831c399e269772661-2"}},
			Options{Overwrite: true}, nil, []string{"push:a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := actions(PlanPush(tt.local, tt.remote, tt.o, false, tt.ours))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestPlanPull(t *testing.T) {
	tests := []struct {
		name          string
		local, remote []Entry
		o             Options
		sse           bool
		want          []string
	}{
		{"missing files are pulled", nil, []Entry{ent("in/a", 5, t0)}, Options{}, false, []string{"pull:in/a"}},
		{"local extra files are kept", []Entry{ent("mine", 1, t0)}, nil, Options{}, false, nil},
		{"remove deletes local extras", []Entry{ent("mine", 1, t0), ent("x.log", 1, t0)}, nil, Options{Remove: true, Exclude: []string{"*.log"}}, false,
			[]string{"delete-local:mine"}},
		{"changed objects overwrite with overwrite", []Entry{ent("a", 1, t0)}, []Entry{ent("a", 2, t0)}, Options{Overwrite: true}, false,
			[]string{"pull:a"}},
		{"SSE-C ETags are not MD5s",
			[]Entry{{Path: "a", Size: 1, ModTime: t0, ETag: "0cc175b9c0f1b6a831c399e269772661"}},
			[]Entry{{Path: "a", Size: 1, ModTime: t0.Add(time.Hour), ETag: "0cc175b9c0f1b6a831c399e269772661"}},
			Options{Overwrite: true}, true, []string{"pull:a"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := actions(PlanPull(tt.local, tt.remote, tt.o, tt.sse))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNeedHash(t *testing.T) {
	md5 := "0cc175b9c0f1b6a831c399e269772661"
	local := []Entry{ent("touched", 1, t0), ent("same", 1, t0), ent("resized", 2, t0), ent("new", 1, t0)}
	remote := []Entry{
		{Path: "touched", Size: 1, ModTime: t0.Add(time.Second), ETag: md5},
		{Path: "same", Size: 1, ModTime: t0, ETag: md5},
		{Path: "resized", Size: 1, ModTime: t0.Add(time.Second), ETag: md5},
	}
	if got := NeedHash(local, remote, false); !reflect.DeepEqual(got, []string{"touched"}) {
		t.Errorf("NeedHash = %q, want [touched]", got)
	}
	if got := NeedHash(local, remote, true); got != nil {
		t.Errorf("NeedHash with SSE-C = %q, want none", got)
	}
}

func TestExcluded(t *testing.T) {
	tests := []struct {
		path  string
		globs []string
		want  bool
	}{
		{"a.log", []string{"*.log"}, true},
		{"deep/dir/a.log", []string{"*.log"}, true},
		{"a.log.txt", []string{"*.log"}, false},
		{"tmp/x/y", []string{"tmp"}, true},
		{"a/tmp/y", []string{"tmp"}, true},
		{"tmpfile", []string{"tmp"}, false},
		{"build/out/a.o", []string{"build/*"}, true},
		{"x", nil, false},
	}
	for _, tt := range tests {
		if got := Excluded(tt.path, tt.globs); got != tt.want {
			t.Errorf("Excluded(%q, %q) = %v, want %v", tt.path, tt.globs, got, tt.want)
		}
	}
}

func TestMetadataRoundTrip(t *testing.T) {
	e := Entry{Path: "a", Size: 1, ModTime: t0, Mode: 0o751}
	meta := map[string]string{}
	for k, v := range Metadata(e, true) {
		meta["X-Amz-Meta-"+k] = v // as a listing returns it
	}
	got := FromMetadata(Entry{Path: "a", Size: 1, ModTime: time.Unix(1, 0)}, meta)
	if !got.ModTime.Equal(t0) || got.Mode != 0o751 {
		t.Errorf("round trip: mtime %v mode %o, want %v 751", got.ModTime, got.Mode, t0)
	}
	if _, ok := Metadata(e, false)[metaMode]; ok {
		t.Errorf("mode stored without preserve")
	}
	mc := FromMetadata(Entry{Path: "a"}, map[string]string{"X-Amz-Meta-Mc-Attrs": "atime:1#gid:0#mode:33261#mtime:1600000000#uid:0"})
	if mc.ModTime.Unix() != 1600000000 || mc.Mode != 0o755 {
		t.Errorf("mc attrs: mtime %d mode %o, want 1600000000 755", mc.ModTime.Unix(), mc.Mode)
	}
}

func TestPlace(t *testing.T) {
	tests := []struct {
		in, key, err string
		p            Place
	}{
		{in: "s3/bucket", p: Place{"s3", "bucket", ""}, key: "f"},
		{in: "s3/bucket/job/42/", p: Place{"s3", "bucket", "job/42"}, key: "job/42/f"},
		{in: "s3", err: "not ALIAS/BUCKET"},
		{in: "s3//x", err: "not ALIAS/BUCKET"},
	}
	for _, tt := range tests {
		p, err := ParsePlace(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParsePlace(%q) error %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || p != tt.p || p.Key("f") != tt.key {
			t.Errorf("ParsePlace(%q) = %+v (key %q), %v; want %+v (key %q)", tt.in, p, p.Key("f"), err, tt.p, tt.key)
		}
		if rel, ok := p.Rel(p.Key("d/f")); !ok || rel != "d/f" {
			t.Errorf("%+v: Rel(Key(d/f)) = %q, %v", p, rel, ok)
		}
	}
	for _, tc := range []struct {
		prefix, key string
	}{
		{"job", "jobs/f"}, // outside the prefix
		{"", "../etc/passwd"}, {"job", "job/../../x"}, {"", "/abs"}, {"", "a//b"}, {"", "a/./b"}, {"job", "job/"}, {"", ""},
	} {
		if rel, ok := (Place{Prefix: tc.prefix}).Rel(tc.key); ok {
			t.Errorf("Rel(%q) under prefix %q = %q, true; want the key refused", tc.key, tc.prefix, rel)
		}
	}
}

// A pull that failed leaves the directory without what it did not pull:
// the pushes after it must not delete those objects.
func TestPushDeletesAfterFailedPull(t *testing.T) {
	c, err := NewClient("lab", "http://127.0.0.1:1", "a", "b", nil)
	if err != nil {
		t.Fatal(err)
	}
	m := &Mirror{Dir: t.TempDir(), Opts: Options{Remove: true}}
	if !m.PushDeletes() {
		t.Fatal("PushDeletes() = false before any pull")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := m.Pull(ctx, Target{Client: c, Place: Place{Alias: "lab", Bucket: "b"}}); err == nil {
		t.Fatal("Pull from a closed port succeeded")
	}
	if m.PushDeletes() {
		t.Error("PushDeletes() = true after a failed pull")
	}
}
