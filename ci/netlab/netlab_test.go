package netlab

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestServices starts each service of a lab and asks it what a guest
// would: a DNS record, the time, a page through the proxy.
func TestServices(t *testing.T) {
	ctx := t.Context()
	l, err := New(ctx, 250, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()

	if err := l.Dnsmasq(ctx, nil, map[string]netip.Addr{"registry.lab": l.Addr(7)}); err != nil {
		t.Fatal(err)
	}
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, net.JoinHostPort(l.Host.String(), "53"))
	}}
	addrs, err := r.LookupHost(ctx, "registry.lab")
	if err != nil || len(addrs) != 1 || addrs[0] != l.Addr(7).String() {
		t.Errorf("dnsmasq: registry.lab = %v, %v; want %s", addrs, err, l.Addr(7))
	}

	if err := l.Chrony(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := ntpTime(l.Host.String()); err != nil {
		t.Errorf("chrony: %v", err)
	} else if d := time.Since(got); d > 2*time.Second || d < -2*time.Second {
		t.Errorf("chrony serves %s, %s away from this machine's clock", got, d)
	}

	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "through") })}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	defer srv.Close()
	fwd, err := l.Forward(l.Host.String()+":0", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	proxy, err := l.Tinyproxy(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pu, _ := url.Parse(proxy)
	c := &http.Client{Transport: &http.Transport{Proxy: http.ProxyURL(pu)}, Timeout: 10 * time.Second}
	resp, err := c.Get("http://" + fwd + "/page")
	if err != nil {
		t.Fatalf("through tinyproxy and the forwarder: %v", err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "through" {
		t.Errorf("through the proxy: %q", b)
	}
	if log := l.Log("tinyproxy"); !strings.Contains(log, "/page") {
		t.Errorf("tinyproxy's log has no /page request:\n%s", log)
	}
}

// ntpTime asks an NTP server for the time with a client-mode packet.
func ntpTime(host string) (time.Time, error) {
	c, err := net.Dial("udp", net.JoinHostPort(host, "123"))
	if err != nil {
		return time.Time{}, err
	}
	defer c.Close()
	req := make([]byte, 48)
	req[0] = 0x23 // version 4, client
	var resp [48]byte
	for try := 0; try < 5; try++ {
		c.SetDeadline(time.Now().Add(time.Second))
		if _, err = c.Write(req); err != nil {
			continue
		}
		var n int
		if n, err = c.Read(resp[:]); err == nil && n == 48 {
			if leap := resp[0] >> 6; leap == 3 {
				err = fmt.Errorf("server not synchronized")
				time.Sleep(500 * time.Millisecond)
				continue
			}
			secs := binary.BigEndian.Uint32(resp[40:44])
			frac := binary.BigEndian.Uint32(resp[44:48])
			const ntpEpoch = 2208988800
			return time.Unix(int64(secs)-ntpEpoch, int64(frac)*1e9>>32), nil
		}
	}
	return time.Time{}, fmt.Errorf("ntp %s: %w", host, err)
}

// TestClaim: a lab number another run holds is not taken; the next one
// (+16) is, and a released number is free again.
func TestClaim(t *testing.T) {
	n1, h1, err := claim(240)
	if err != nil || n1 != 240 {
		t.Fatalf("claim(240) = %d, %v; want 240", n1, err)
	}
	n2, h2, err := claim(240)
	if err != nil || n2 != (240+16)%255 {
		t.Fatalf("claim(240) while held = %d, %v; want %d", n2, err, (240+16)%255)
	}
	h2.Close()
	h1.Close()
	n3, h3, err := claim(240)
	if err != nil || n3 != 240 {
		t.Fatalf("claim(240) after release = %d, %v; want 240", n3, err)
	}
	h3.Close()
}
