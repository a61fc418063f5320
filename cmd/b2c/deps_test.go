package main

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoEngine fails when the CLI links the agent's podman engine: the CLI
// checks containers' arguments with package podmanargs and never talks to a
// podman service.
func TestNoEngine(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool to list the CLI's imports")
	}
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	for _, forbidden := range []string{"github.com/b2c-dev/b2c/init/podman"} {
		for _, d := range deps {
			if d == forbidden {
				t.Errorf("the CLI imports %s; it must import only github.com/b2c-dev/b2c/init/podmanargs", forbidden)
			}
		}
	}
}
