package main

import (
	"io"
	"strings"
	"testing"
)

// TestRunFlags covers the errors run returns before building anything.
func TestRunFlags(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"-level", "0"}, "want 1 to 4"},
		{[]string{"-level", "5"}, "want 1 to 4"},
		{[]string{"out/x.cpio.zst"}, "unexpected arguments"},
		{[]string{"-nosuchflag"}, "not defined"},
		{[]string{"-arch", "sparc"}, `architecture "sparc"`},
	} {
		err := run(tt.args, io.Discard, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%q) = %v, want an error containing %q", tt.args, err, tt.want)
		}
	}
}
