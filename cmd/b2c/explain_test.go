package main

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite testdata/explain/*.golden with the current output")

// TestExplainGolden compares b2c explain's output for each
// testdata/explain/NAME.cmdline with NAME.golden (go test -run
// TestExplainGolden -update rewrites them), and checks that no key or
// password of the command line reaches it.
func TestExplainGolden(t *testing.T) {
	inputs, err := filepath.Glob("testdata/explain/*.cmdline")
	if err != nil || len(inputs) == 0 {
		t.Fatalf("no testdata/explain/*.cmdline: %v", err)
	}
	for _, in := range inputs {
		name := strings.TrimSuffix(filepath.Base(in), ".cmdline")
		t.Run(name, func(t *testing.T) {
			line, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var out, errb bytes.Buffer
			if code := exitCode(run(context.Background(), []string{"explain", "-f", in}, strings.NewReader(""), &out, &errb), &errb); code != 0 {
				t.Fatalf("b2c explain -f %s: exit %d\n%s", in, code, errb.String())
			}
			for _, secret := range []string{"SECRETKEY", "ACCESSKEY", "pr0xypw", "4rgstok", "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=", "1AnYmXTvjZVtb5WOJj3Hxjju"} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("b2c explain -f %s shows the secret %s", in, secret)
				}
			}
			golden := strings.TrimSuffix(in, ".cmdline") + ".golden"
			if *update {
				if err := os.WriteFile(golden, out.Bytes(), 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (go test -run TestExplainGolden -update writes it)", err)
			}
			if out.String() != string(want) {
				t.Errorf("b2c explain %s:\n%s\ngot:\n%s\nwant (%s):\n%s", in, line, out.String(), golden, want)
			}
		})
	}
}
