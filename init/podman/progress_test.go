package podman

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

func TestPullProgress(t *testing.T) {
	// What podman's compatible pull sends: a layer that takes 25 s,
	// one too small for a progress event, one already there, and the
	// image's own "Download complete".
	events := []struct {
		at   int // seconds
		json string
	}{
		{0, `{"status":"Pulling fs layer","progressDetail":{},"id":"aaaaaaaaaaaa"}`},
		{0, `{"status":"Pulling fs layer","progressDetail":{},"id":"bbbbbbbbbbbb"}`},
		{1, `{"status":"Downloading","progressDetail":{"current":1048576,"total":104857600},"progress":"[>  ]","id":"aaaaaaaaaaaa"}`},
		{1, `{"status":"Download complete","progressDetail":{},"id":"bbbbbbbbbbbb"}`},
		{2, `{"status":"Already exists","progressDetail":{},"id":"cccccccccccc"}`},
		{11, `{"status":"Downloading","progressDetail":{"current":41943040,"total":104857600},"id":"aaaaaaaaaaaa"}`},
		{15, `{"status":"Downloading","progressDetail":{"current":62914560,"total":104857600},"id":"aaaaaaaaaaaa"}`},
		{21, `{"status":"Downloading","progressDetail":{"current":94371840,"total":104857600},"id":"aaaaaaaaaaaa"}`},
		{25, `{"status":"Download complete","progressDetail":{},"id":"aaaaaaaaaaaa"}`},
		{26, `{"status":"Download complete","progressDetail":{},"id":"0123456789ab"}`},
	}
	var lines []string
	var now time.Time
	p := &pullProgress{
		logf:   func(f string, a ...any) { lines = append(lines, fmt.Sprintf(f, a...)) },
		now:    func() time.Time { return now },
		every:  10 * time.Second,
		layers: map[string]*layerProgress{},
	}
	for _, e := range events {
		now = time.Unix(1000+int64(e.at), 0)
		if err := p.read(strings.NewReader(e.json)); err != nil {
			t.Fatalf("%s: %v", e.json, err)
		}
	}
	want := []string{
		"Pulling layer aaaaaaaaaaaa",
		"Pulling layer bbbbbbbbbbbb",
		"Pulled layer bbbbbbbbbbbb in 1.0 s",
		"Layer cccccccccccc is already in the cache",
		"Pulling layer aaaaaaaaaaaa: 40.0 of 100.0 MiB (3.6 MiB/s)",
		"Pulling layer aaaaaaaaaaaa: 90.0 of 100.0 MiB (4.3 MiB/s)",
		"Pulled layer aaaaaaaaaaaa: 100.0 MiB in 25.0 s (4.0 MiB/s)",
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("lines:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestPullProgressErrors(t *testing.T) {
	for _, tc := range []struct{ stream, want string }{
		{`{"message":"initializing source docker://r/i: manifest unknown"}`, "manifest unknown"},
		{`{"status":"Pulling fs layer","id":"a"}{"errorDetail":{"message":"x509: certificate has expired or is not yet valid"},"error":"x509: certificate has expired or is not yet valid"}`, "x509: certificate has expired"},
		{`{"status":`, "read the pull's progress"},
	} {
		p := &pullProgress{logf: func(string, ...any) {}, now: time.Now, every: time.Second, layers: map[string]*layerProgress{}}
		err := p.read(strings.NewReader(tc.stream))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("read(%s) = %v, want an error with %q", tc.stream, err, tc.want)
		}
	}
}
