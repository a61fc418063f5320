package swap

import (
	"encoding/binary"
	"strings"
	"testing"
)

func TestHeader(t *testing.T) {
	h, err := Header(256<<20, 4096)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 4096 || string(h[4096-10:]) != "SWAPSPACE2" {
		t.Errorf("Header: no SWAPSPACE2 signature at the page's end")
	}
	if v := binary.LittleEndian.Uint32(h[1024:]); v != 1 {
		t.Errorf("Header: version %d, want 1", v)
	}
	if last := binary.LittleEndian.Uint32(h[1028:]); last != 256<<20/4096-1 {
		t.Errorf("Header: last_page %d, want %d", last, 256<<20/4096-1)
	}
	for _, tt := range []struct {
		size int64
		want string
	}{{4096 * 9, "too small"}, {1 << 50, "too large"}} {
		if _, err := Header(tt.size, 4096); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Header(%d) = %v, want %q", tt.size, err, tt.want)
		}
	}
}
