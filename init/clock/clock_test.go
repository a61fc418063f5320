package clock

import (
	"context"
	"encoding/binary"
	"net"
	"testing"
	"time"
)

// serveNTP answers NTP requests on loopback with a clock skewed by skew:
// a minimal server, enough to test the client's handling of an answer.
func serveNTP(t *testing.T, skew time.Duration) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 48)
		for {
			n, addr, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			if n < 48 {
				continue
			}
			now := time.Now().Add(skew)
			resp := make([]byte, 48)
			resp[0] = 0<<6 | 4<<3 | 4 // no leap, version 4, server
			resp[1] = 2               // stratum
			copy(resp[12:16], []byte{127, 0, 0, 1})
			put := func(off int, tm time.Time) {
				secs := uint64(tm.Unix() + 2208988800)
				frac := uint64(tm.Nanosecond()) << 32 / 1e9
				binary.BigEndian.PutUint64(resp[off:], secs<<32|frac)
			}
			put(16, now)                  // reference
			copy(resp[24:32], buf[40:48]) // origin = client's transmit
			put(32, now)                  // receive
			put(40, now)                  // transmit
			pc.WriteTo(resp, addr)
		}
	}()
	return pc.LocalAddr().String()
}

func TestQuery(t *testing.T) {
	addr := serveNTP(t, time.Hour)
	off, err := Query(context.Background(), addr, 2, time.Second)
	if err != nil {
		t.Fatalf("Query = %v", err)
	}
	if off < 59*time.Minute || off > 61*time.Minute {
		t.Errorf("Query offset = %v, want about 1h", off)
	}
}

func TestQueryUnreachable(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close() // nothing answers there
	if _, err := Query(context.Background(), addr, 2, 100*time.Millisecond); err == nil {
		t.Error("Query of a closed port returned no error")
	}
}

func TestPeer(t *testing.T) {
	lab := []net.IP{net.ParseIP("10.0.2.2"), net.ParseIP("10.0.2.3")}
	for _, tt := range []struct {
		configured string
		offered    []net.IP
		want       string
	}{
		{"auto", lab, "10.0.2.2"},
		{"auto", nil, "pool.ntp.org"},
		{"time.lab", lab, "time.lab"},
		{"time.lab", nil, "time.lab"},
	} {
		if got := Peer(tt.configured, tt.offered); got != tt.want {
			t.Errorf("Peer(%q, %v) = %q, want %q", tt.configured, tt.offered, got, tt.want)
		}
	}
}
