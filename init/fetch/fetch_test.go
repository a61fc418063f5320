package fetch

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestText(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/args":
			w.Write([]byte(`b2c.run="docker://alpine echo extra"`))
		case "/big":
			w.Write([]byte(strings.Repeat("x", MaxSize+1)))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()
	c := Client(cmdline.Proxy{}, 5*time.Second)
	for _, tt := range []struct {
		path, want, wantErr string
	}{
		{"/args", `b2c.run="docker://alpine echo extra"`, ""},
		{"/missing", "", "404"},
		{"/big", "", "larger than"},
	} {
		got, err := Text(context.Background(), c, srv.URL+tt.path)
		if got != tt.want || (tt.wantErr == "") != (err == nil) || err != nil && !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("Text(%s) = %q, %v; want %q, error with %q", tt.path, got, err, tt.want, tt.wantErr)
		}
	}
}

// The proxy is a real HTTP server that sees the request for a host that
// does not resolve.
func TestTextThroughProxy(t *testing.T) {
	var seen atomic.Value
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen.Store(r.URL.String())
		w.Write([]byte("b2c.pipefail"))
	}))
	defer proxy.Close()
	c := Client(cmdline.Proxy{HTTP: proxy.URL}, 5*time.Second)
	got, err := Text(context.Background(), c, "http://config.lab.invalid/args")
	if err != nil || got != "b2c.pipefail" {
		t.Fatalf("Text through proxy = %q, %v", got, err)
	}
	if s, _ := seen.Load().(string); s != "http://config.lab.invalid/args" {
		t.Errorf("proxy saw %q", s)
	}
	// no= bypasses the proxy: the host does not resolve, so it fails.
	c = Client(cmdline.Proxy{HTTP: proxy.URL, No: []string{"config.lab.invalid"}}, 2*time.Second)
	if _, err := Text(context.Background(), c, "http://config.lab.invalid/args"); err == nil {
		t.Error("no= did not bypass the proxy")
	}
}
