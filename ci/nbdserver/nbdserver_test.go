package nbdserver

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/nbd"
)

// TestServe: the server gives its default export to b2c's handshake, to
// more than one connection, and Kill closes them.
func TestServe(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	s, err := Start(t.Context(), dir, img)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Kill() })
	var conns []net.Conn
	for i := 0; i < 2; i++ {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		exp, err := nbd.Handshake(c)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		if exp.Size != 64<<20 {
			t.Errorf("connection %d: export of %d bytes, want %d", i, exp.Size, 64<<20)
		}
		conns = append(conns, c)
	}
	if err := s.Kill(); err != nil {
		t.Fatal(err)
	}
	for i, c := range conns {
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Errorf("connection %d: still open after Kill", i)
		}
	}
}
