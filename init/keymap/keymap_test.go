package keymap

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFind(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"i386/azerty/fr.kmap.gz", "i386/qwerty/us.kmap.gz", "i386/include/compose.inc.gz"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	for _, tt := range []struct{ name, want, wantErr string }{
		{"fr", "i386/azerty/fr.kmap.gz", ""},
		{"us", "i386/qwerty/us.kmap.gz", ""},
		{"klingon", "", "not among"},
		{"../etc/passwd", "", "not a keymap name"},
		{"compose", "", "not among"},
	} {
		got, err := Find(dir, tt.name)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Find(%q) = %q, %v; want an error with %q", tt.name, got, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got != filepath.Join(dir, tt.want) {
			t.Errorf("Find(%q) = %q, %v; want %s", tt.name, got, err, tt.want)
		}
	}
}
