package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEngine fails when the CLI links what it must not: built with no
// tags (`go build ./cmd/b2c`), none of podman nor containers/storage,
// whose cgo drivers need C headers and whose signature code needs
// gpgme, so that the CLI builds anywhere, with CGO_ENABLED=0 too; built
// as `make cli` does (tag remote), podman's spec code but never the
// agent's engine, as the CLI talks to no podman service.
func TestNoEngine(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to list the CLI's imports")
	}
	for _, tt := range []struct {
		tags      string
		forbidden []string // import paths; ending in "/", prefixes
	}{
		{"", []string{"github.com/b2c-dev/b2c/init/podman", "github.com/b2c-dev/b2c/init/podmanspec", "github.com/containers/"}},
		{"remote", []string{"github.com/b2c-dev/b2c/init/podman"}},
	} {
		// -tags= overrides any -tags in GOFLAGS: the test's own tags
		// must not decide which build it lists.
		out, err := exec.Command("go", "list", "-deps", "-tags="+tt.tags, ".").CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps -tags=%q: %v\n%s", tt.tags, err, out)
		}
		deps := strings.Fields(string(out))
		for _, f := range tt.forbidden {
			for _, d := range deps {
				if d == f || strings.HasSuffix(f, "/") && strings.HasPrefix(d, f) {
					t.Errorf("the CLI built with tags %q imports %s", tt.tags, d)
					break
				}
			}
		}
	}
}
