package main

import (
	"bytes"
	"context"
	"os"
	"strings"
	"testing"
)

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantOut  []string
	}{
		{"lint ok with kernel args", []string{"lint", `console=ttyS0 quiet loglevel=6 SALAD.machine_id=42 b2c.run="-ti docker://alpine echo hi"`}, "", 0, []string{"OK"}},
		{"lint stdin", []string{"lint"}, `b2c.poweroff_delay=abc`, 1, []string{`ERROR: b2c.poweroff_delay=abc: invalid value "abc"`}},
		{"lint bad podman flag", []string{"lint", `b2c.run="--no-such-flag alpine"`}, "", 1, []string{"ERROR: b2c.run=--no-such-flag alpine", "unknown flag"}},
		{"lint unknown option warns", []string{"lint", `b2c.frob=1`}, "", 0, []string{"WARNING: b2c.frob=1: unknown option", "OK"}},
		{"explain", []string{"explain", `b2c.run="-v x:/x docker://alpine echo hi" b2c.pipefail b2c.shutdown_cmd="poweroff -f"`}, "", 0,
			[]string{"Stage 1: podman create --privileged=true --network=host --pull=always -v x:/x docker://alpine echo hi", "Network: DHCP", "Cache: none", "Shutdown: run `poweroff -f`", "Pipefail"}},
		{"explain errors", []string{"explain", `b2c.timeout=x`}, "", 0, []string{"No container will run"}},
		{"no command", nil, "", 2, nil},
		{"run help", []string{"run", "-h"}, "", 0, []string{"usage: b2c run", "Exit status"}},
		{"run bad b2c flag value", []string{"run", "--mem", "lots", "alpine"}, "", 2, nil},
		{"run bad podman flag", []string{"run", "--no-such-flag", "alpine"}, "", 2, nil},
		{"run no image", []string{"run", "-v"}, "", 2, nil},
		{"run missing image file", []string{"run", "--kernel", "main.go", "--initramfs", "main.go", "./no-such-image.tar"}, "", 255, nil},
		{"bad command", []string{"frob"}, "", 2, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			err := run(context.Background(), tt.args, strings.NewReader(tt.stdin), &out, &errb)
			if code := exitCode(err, &errb); code != tt.wantCode {
				t.Errorf("run(%q) exit %d, want %d; out:\n%s%s", tt.args, code, tt.wantCode, out.String(), errb.String())
			}
			for _, w := range tt.wantOut {
				if !strings.Contains(out.String(), w) {
					t.Errorf("run(%q) output lacks %q:\n%s", tt.args, w, out.String())
				}
			}
		})
	}
}

// The README's examples are what labs copy: every `b2c lint '...'` line of
// it must pass.
func TestREADMEExamplesLint(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "b2c lint '") || !strings.HasSuffix(line, "'") {
			continue
		}
		n++
		arg := strings.TrimSuffix(strings.TrimPrefix(line, "b2c lint '"), "'")
		var out, errb bytes.Buffer
		if code := exitCode(run(context.Background(), []string{"lint", arg}, strings.NewReader(""), &out, &errb), &errb); code != 0 {
			t.Errorf("b2c lint %q: exit %d\n%s%s", arg, code, out.String(), errb.String())
		}
	}
	if n < 5 {
		t.Errorf("found %d lint examples in README.md, want at least 5", n)
	}
}
