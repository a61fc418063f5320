package tlsca

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"os"
	"path/filepath"
	"testing"
)

func TestNew(t *testing.T) {
	c, err := New("test", net.IPv4(10, 77, 1, 1))
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(c.TLS.Certificate[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"127.0.0.1", "10.0.2.2", "10.77.1.1"} {
		if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.Pool, DNSName: host}); err != nil {
			t.Errorf("verify for %s: %v", host, err)
		}
	}
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: c.Pool, DNSName: "10.0.2.3"}); err == nil {
		t.Error("verified for 10.0.2.3, which it does not name")
	}
	dir := t.TempDir()
	if err := c.Write(dir); err != nil {
		t.Fatal(err)
	}
	if _, err := tls.LoadX509KeyPair(filepath.Join(dir, "public.crt"), filepath.Join(dir, "private.key")); err != nil {
		t.Errorf("the written pair does not load: %v", err)
	}
	if st, err := os.Stat(filepath.Join(dir, "private.key")); err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("private.key: %v, %v", st, err)
	}
}
