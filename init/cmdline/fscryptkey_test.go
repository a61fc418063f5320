package cmdline

import (
	"bytes"
	"encoding/base64"
	"testing"
)

func TestFscryptKey(t *testing.T) {
	b64 := func(n int) string { return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n)) }
	tests := []struct {
		in     string
		wantOK bool
	}{
		{b64(64), true},
		{b64(63), false},
		{b64(65), false},
		{b64(32), false},
		{"!!!", false},
		{"", false},
	}
	for _, tt := range tests {
		key, err := FscryptKey(tt.in)
		if got := err == nil; got != tt.wantOK {
			t.Errorf("FscryptKey(%q) = %v, want ok %v", tt.in, err, tt.wantOK)
			continue
		}
		if tt.wantOK && !bytes.Equal(key, bytes.Repeat([]byte{7}, 64)) {
			t.Errorf("FscryptKey(%q) = %x, want 64 bytes of 7", tt.in, key)
		}
		if !tt.wantOK && err.Error() != "fscrypt_key is not the base64 of 64 bytes" {
			t.Errorf("FscryptKey(%q) error %q, want the parser's message", tt.in, err)
		}
	}
}
