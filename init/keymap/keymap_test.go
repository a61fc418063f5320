package keymap

import (
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// keymaps makes a tree of (empty) keymaps like console-data's.
func keymaps(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	for _, f := range []string{"i386/azerty/fr.kmap.gz", "i386/qwerty/us.kmap.gz", "i386/include/compose.inc.gz"} {
		p := filepath.Join(dir, f)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestFind(t *testing.T) {
	dir := keymaps(t)
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

func TestLoad(t *testing.T) {
	dir := keymaps(t)
	fr := filepath.Join(dir, "i386/azerty/fr.kmap.gz")
	for _, tt := range []struct {
		name     string
		code     int
		runErr   error
		wantArgs []string // nil: loadkeys does not run
		wantErr  string
	}{
		{name: "fr", wantArgs: []string{"/usr/bin/loadkeys", "-q", "-C", "/dev/tty0", fr}},
		{name: "fr", code: 1, wantArgs: []string{"/usr/bin/loadkeys", "-q", "-C", "/dev/tty0", fr},
			wantErr: "loadkeys " + fr + ": exit 1"},
		{name: "fr", code: -1, runErr: errors.New("start /usr/bin/loadkeys: no such file"),
			wantArgs: []string{"/usr/bin/loadkeys", "-q", "-C", "/dev/tty0", fr}, wantErr: "start /usr/bin/loadkeys: no such file"},
		{name: "klingon", wantErr: "keymap klingon: not among"},
	} {
		var gotArgs []string
		run := func(_ context.Context, cmd *exec.Cmd) (int, error) {
			gotArgs = cmd.Args
			if cmd.Stdout != io.Discard || cmd.Stderr != io.Discard {
				t.Errorf("Load(%q): loadkeys' output does not go to out", tt.name)
			}
			return tt.code, tt.runErr
		}
		err := Load(context.Background(), dir, tt.name, run, io.Discard)
		if !reflect.DeepEqual(gotArgs, tt.wantArgs) {
			t.Errorf("Load(%q) ran %q, want %q", tt.name, gotArgs, tt.wantArgs)
		}
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("Load(%q) = %v, want nil", tt.name, err)
		case tt.wantErr != "" && (err == nil || !strings.HasPrefix(err.Error(), tt.wantErr)):
			t.Errorf("Load(%q) = %v, want %q", tt.name, err, tt.wantErr)
		}
	}
}
