// Package fetch downloads the small texts the agent itself needs (the
// extra options of b2c.extra_args_url), through the lab's proxy when
// b2c.proxy names one, with a bounded time.
package fetch

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/b2c-dev/b2c/init/cmdline"
)

// MaxSize bounds a fetched text: a command line is small, and a wrong URL
// must not fill the RAM.
const MaxSize = 1 << 20

// Client returns an HTTP client using proxy and timeout.
func Client(proxy cmdline.Proxy, timeout time.Duration) *http.Client {
	cfg := httpproxy.Config{HTTPProxy: proxy.HTTP, HTTPSProxy: proxy.HTTPS}
	for i, h := range proxy.No {
		if i > 0 {
			cfg.NoProxy += ","
		}
		cfg.NoProxy += h
	}
	pf := cfg.ProxyFunc()
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.Proxy = func(r *http.Request) (*url.URL, error) { return pf(r.URL) }
	// As minio-go's own transport: a server that takes the request and
	// never answers fails the request (which its client retries) rather
	// than holding it forever; a long upload is not counted.
	tr.ResponseHeaderTimeout = time.Minute
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Text downloads url's body as text.
func Text(ctx context.Context, c *http.Client, u string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", u, err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", u, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("fetch %s: %s", u, resp.Status)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return "", fmt.Errorf("fetch %s: %w", u, err)
	}
	if len(b) > MaxSize {
		return "", fmt.Errorf("fetch %s: larger than %d bytes", u, MaxSize)
	}
	return string(b), nil
}
