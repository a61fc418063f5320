// Package e2e boots b2c's kernel and initramfs in QEMU against a real
// registry on the host and checks what the console says. Each scenario is
// a small TestX; the shared harness is in harness_test.go.
package e2e

import (
	"regexp"
	"strings"
	"testing"
)

func TestSuccess(t *testing.T) {
	v := boot(t, run(`echo hello from b2c`))
	expect(t, v, `^hello from b2c$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	// The lines lab software parses, byte for byte (docs/cmdline.md, "Console output").
	for _, re := range []string{
		`(?m)^\x1b\[0Ksection_end:\d+:b2c_kernel_boot\r\x1b\[0K$`,
		`(?m)^\x1b\[0Ksection_start:\d+:b2c_setup\[collapsed=true\]\r\x1b\[0K`,
		`(?m)^\x1b\[0Ksection_end:\d+:b2c_setup\r\x1b\[0K$`,
		`(?m)^\x1b\[0Ksection_start:\d+:container_run\r\x1b\[0K`,
		`(?m)^\x1b\[0Ksection_start:\d+:runtime_info\[collapsed=true\]\r\x1b\[0K`,
		`(?m)^\[ *\d+\.\d\d\]: Linux version: \S+$`,
		`(?m)^\[ *\d+\.\d\d\]: Boot2container version: \S+$`,
		`(?m)^\[ *\d+\.\d\d\]: Architecture: amd64$`,
		`(?m)^\[ *\d+\.\d\d\]: CPU: `,
		`(?m)^\[ *\d+\.\d\d\]: RAM: `,
		`(?m)^\[ *\d+\.\d\d\]: Block devices: `,
		`(?m)^\[ *\d+\.\d\d\]: Execution is over, pipeline status: 0\r?$`,
		`(?m)^It's now safe to turn off your computer\r?$`,
	} {
		if !regexp.MustCompile(re).MatchString(v.RawConsole()) {
			t.Errorf("console does not match %q", re)
		}
	}
}

func TestExitCode(t *testing.T) {
	v := boot(t, run(`sh -c 'exit 3'`))
	if got := status(t, v); got != 3 {
		t.Errorf("pipeline status = %d, want 3", got)
	}
}

func TestTwoStagesInOrder(t *testing.T) {
	v := boot(t, run(`echo stage-one`), run(`echo stage-two`))
	expect(t, v, `^stage-one$`)
	expect(t, v, `^stage-two$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

func TestMissingImage(t *testing.T) {
	image := reg.GuestAddr() + "/b2c/no-such-image:latest"
	v := boot(t, `b2c.run="--tls-verify=false docker://`+image+` echo never"`)
	m := expect(t, v, `ERROR: .*`)
	if !strings.Contains(m[0], "b2c/no-such-image") {
		t.Errorf("ERROR line %q does not name the image", m[0])
	}
	if got := status(t, v); got == 0 {
		t.Errorf("pipeline status = 0, want non-zero")
	}
	if strings.Contains(v.Console(), "never") && regexp.MustCompile(`(?m)^never$`).MatchString(v.Console()) {
		t.Errorf("the container ran")
	}
}

func TestNoNetworkCard(t *testing.T) {
	v := boot(t, noNIC, run(`echo never`))
	expect(t, v, `ERROR: Could not connect to the network, shutting down!`)
	if got := status(t, v); got != 1 {
		t.Errorf("pipeline status = %d, want 1", got)
	}
}

// A container that leaves an orphan behind: conmon double-forks, so PID 1
// inherits it; the next stage, in the host's PID namespace, counts the
// zombies.
func TestOrphansReaped(t *testing.T) {
	v := boot(t, run(`sh -c 'sleep 1 & exit 0'`),
		run(`--pid=host`, `sh -c 'sleep 3; echo zombies=$(ps -o stat | grep -c ^Z)'`))
	m := expect(t, v, `^zombies=(\d+)$`)
	if m[1] != "0" {
		t.Errorf("zombies = %s, want 0\n%s", m[1], v.Console())
	}
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

// TestSignalPID1: a container in the host's PID namespace sends SIGTERM,
// SIGHUP and SIGINT to PID 1; the agent goes on (Go's default would exit
// PID 1, and the kernel would panic) and the run ends normally.
func TestSignalPID1(t *testing.T) {
	v := boot(t, run("--pid=host", `sh -c 'kill -TERM 1; kill -HUP 1; kill -INT 1; sleep 1; echo still-here'`))
	expect(t, v, `^still-here$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}
