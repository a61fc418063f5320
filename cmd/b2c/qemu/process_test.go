package qemu

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// fakeQEMU writes a shell script that stands for QEMU.
func fakeQEMU(t *testing.T, script string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "qemu")
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name, script string
		lines        []string
		stderr       string
		err          bool
	}{
		{"lines", `printf 'a\r\nb\n\nlast'; echo warn >&2`, []string{"a\r", "b", "", "last"}, "warn\n", false},
		{"fails", `echo x; exit 3`, []string{"x"}, "", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var lines []string
			var stderr bytes.Buffer
			err := Run(t.Context(), fakeQEMU(t, tt.script), nil, func(s string) { lines = append(lines, s) }, &stderr, time.Second)
			if (err != nil) != tt.err || !slices.Equal(lines, tt.lines) || stderr.String() != tt.stderr {
				t.Errorf("Run = %v, lines %q, stderr %q; want error %v, %q, %q", err, lines, stderr.String(), tt.err, tt.lines, tt.stderr)
			}
		})
	}
}

// TestRunStops checks that a cancelled run stops QEMU with SIGTERM, and
// with SIGKILL when it ignores SIGTERM.
func TestRunStops(t *testing.T) {
	for _, tt := range []struct{ name, script, want string }{
		{"sigterm", `trap 'echo term; exit 0' TERM; echo up; while :; do sleep 0.1; done`, "term"},
		{"sigkill", `trap '' TERM; echo up; while :; do sleep 0.1; done`, "up"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(t.Context())
			var lines []string
			err := Run(ctx, fakeQEMU(t, tt.script), nil, func(s string) {
				lines = append(lines, s)
				if s == "up" {
					cancel(errors.New("interrupted"))
				}
			}, &bytes.Buffer{}, 500*time.Millisecond)
			if err == nil || !strings.Contains(err.Error(), "interrupted") || lines[len(lines)-1] != tt.want {
				t.Errorf("Run = %v, lines %q; want interrupted, last line %q", err, lines, tt.want)
			}
		})
	}
}
