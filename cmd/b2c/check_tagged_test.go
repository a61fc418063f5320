//go:build remote

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestCheckValues: the CLI of `make cli` refuses the flags' values that
// podman's spec code refuses, as the agent will, in lint and run.
func TestCheckValues(t *testing.T) {
	for _, tt := range []struct{ podman, want string }{
		{"--memory=abc alpine", "podman spec: invalid value for memory"},
		{"--volume /a:/b:nosuchoption alpine", "podman spec:"},
		{"--restart=always:3 alpine", "restart policy retries can only be specified with on-failure"},
		{"--dns=not-an-ip alpine", "not-an-ip is not an ip address"},
		{"--add-host=nocolon alpine", "podman network flags:"},
	} {
		var out, errb bytes.Buffer
		err := run(context.Background(), []string{"lint", `b2c.run="` + tt.podman + `"`}, strings.NewReader(""), &out, &errb)
		if code := exitCode(err, &errb); code != 1 || !strings.Contains(out.String(), tt.want) {
			t.Errorf("b2c lint b2c.run=%q: exit %d, output %q; want exit 1 and %q", tt.podman, code, out.String(), tt.want)
		}
		out.Reset()
		errb.Reset()
		err = run(context.Background(), append([]string{"run"}, strings.Fields(tt.podman)...), strings.NewReader(""), &out, &errb)
		if code := exitCode(err, &errb); code != 2 || !strings.Contains(errb.String(), tt.want) {
			t.Errorf("b2c run %s: exit %d, stderr %q; want exit 2 and %q", tt.podman, code, errb.String(), tt.want)
		}
	}
}
