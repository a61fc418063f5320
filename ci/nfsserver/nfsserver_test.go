package nfsserver

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"
)

// TestServe: the server answers an NFSv4 NULL call (RFC 5531 over TCP,
// one record) on its port, and Kill ends it.
func TestServe(t *testing.T) {
	s, err := Start(t.Context(), t.TempDir(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Kill()
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	// xid, CALL, RPC version 2, NFS (100003) version 4, procedure NULL,
	// AUTH_NONE credential and verifier.
	var call []byte
	for _, w := range []uint32{0xb2c, 0, 2, 100003, 4, 0, 0, 0, 0, 0} {
		call = binary.BigEndian.AppendUint32(call, w)
	}
	rec := binary.BigEndian.AppendUint32(nil, 1<<31|uint32(len(call)))
	if _, err := c.Write(append(rec, call...)); err != nil {
		t.Fatal(err)
	}
	hdr := make([]byte, 4)
	if _, err := io.ReadFull(c, hdr); err != nil {
		t.Fatalf("no reply to NULL: %v\n%s", err, s.Log())
	}
	reply := make([]byte, binary.BigEndian.Uint32(hdr)&^(1<<31))
	if _, err := io.ReadFull(c, reply); err != nil || len(reply) < 24 {
		t.Fatalf("reply of %d bytes: %v", len(reply), err)
	}
	// xid, REPLY, MSG_ACCEPTED, verifier (flavor, length 0), SUCCESS.
	w := func(i int) uint32 { return binary.BigEndian.Uint32(reply[4*i:]) }
	if w(0) != 0xb2c || w(1) != 1 || w(2) != 0 || w(5) != 0 {
		t.Fatalf("reply words %d %d %d %d, want 0xb2c 1 0 … 0", w(0), w(1), w(2), w(5))
	}
	s.Kill()
	if c, err := net.DialTimeout("tcp", s.Addr(), time.Second); err == nil {
		c.Close()
		t.Errorf("the port still accepts after Kill")
	}
}
