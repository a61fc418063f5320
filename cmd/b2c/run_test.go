package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeQEMU stands for qemu-system-x86_64 on PATH: it prints a console as
// the agent would, ending with the status in $FAKE_STATUS, or a kernel
// panic when that is "panic". Without -initrd it is the KVM probe.
const fakeQEMU = `#!/bin/sh
case "$*" in *-initrd*) ;; *) echo "Linux version fake"; exit 0;; esac
echo "$*" > "$FAKE_ARGS"
printf '[    0.000000] Linux version 6.12\n'
printf '\033[0Ksection_start:1:container_run\r\033[0K[   4.10]: Running x\n'
echo hi
printf '[    4.500000] a kernel line\n'
printf '\033[0Ksection_end:1:container_run\r\033[0K\n'
if [ "$FAKE_STATUS" = panic ]; then
	echo '[    5.000000] Kernel panic - not syncing: fake'
	exit 0
fi
echo '[   5.20]: ERROR: boom'
echo "[   5.40]: Execution is over, pipeline status: $FAKE_STATUS"
echo "It's now safe to turn off your computer"
`

func TestRunVM(t *testing.T) {
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "qemu-system-x86_64"), []byte(fakeQEMU), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	// The KVM probe's answer is cached there.
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	boot := []string{"run", "--kernel", "main.go", "--initramfs", "main.go"}
	// A reference the host cannot resolve: the guest is left to pull it.
	const image = "registry.invalid/b2c/test:1"
	for _, tt := range []struct {
		name, status     string
		args             []string
		code             int
		stdout, stderr   []string
		noStdout         []string
		consoleLog, qemu []string
	}{
		{name: "status", status: "7", args: []string{image, "sh", "-c", "echo hi; exit 7"}, code: 7,
			stdout: []string{"hi\n"}, stderr: []string{"ERROR: boom"}, noStdout: []string{"Linux version", "Running x", "kernel line"},
			qemu: []string{`panic=-1 no_timer_check b2c.run="registry.invalid/b2c/test:1 sh -c 'echo hi; exit 7'"`, "-m 1024", "-smp 2"}},
		{name: "success", status: "0", args: []string{"--mem", "2048", "--cpus", "3", image}, code: 0, qemu: []string{"-m 2048", "-smp 3"}},
		{name: "verbose and console log", status: "0", args: []string{"-v", "--console-log", "LOG", image}, code: 0,
			stdout:     []string{"[    0.000000] Linux version 6.12\n", "[   4.10]: Running x\n", "hi\n", "pipeline status: 0\n"},
			consoleLog: []string{"\x1b[0Ksection_start:1:container_run\r\x1b[0K[   4.10]: Running x\n", "hi\n"}},
		{name: "boot failure", status: "panic", args: []string{image}, code: exitNoStatus,
			stderr: []string{"Kernel panic - not syncing: fake", "without a pipeline status"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			t.Setenv("FAKE_STATUS", tt.status)
			t.Setenv("FAKE_ARGS", filepath.Join(dir, "args"))
			args := append([]string(nil), boot...)
			for _, a := range tt.args {
				args = append(args, strings.ReplaceAll(a, "LOG", filepath.Join(dir, "console.log")))
			}
			var stdout, stderr bytes.Buffer
			code := exitCode(run(t.Context(), args, nil, &stdout, &stderr), &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			check := func(what, got string, want []string, present bool) {
				for _, w := range want {
					if strings.Contains(got, w) != present {
						t.Errorf("%s %q: contains %q = %v, want %v", what, got, w, !present, present)
					}
				}
			}
			if tt.stdout != nil && tt.noStdout != nil && stdout.String() != "hi\n" {
				t.Errorf("stdout %q, want only the container's line", stdout.String())
			}
			check("stdout", stdout.String(), tt.stdout, true)
			check("stdout", stdout.String(), tt.noStdout, false)
			check("stderr", stderr.String(), tt.stderr, true)
			if tt.consoleLog != nil {
				b, err := os.ReadFile(filepath.Join(dir, "console.log"))
				if err != nil {
					t.Fatal(err)
				}
				check("console log", string(b), tt.consoleLog, true)
			}
			qemuArgs, _ := os.ReadFile(filepath.Join(dir, "args"))
			check("qemu arguments", string(qemuArgs), tt.qemu, true)
		})
	}
}
