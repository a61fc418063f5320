package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/b2c-dev/b2c/cmd/b2c/guestconsole"
	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// fakeQEMU stands for qemu-system-x86_64 (and qemu-system-aarch64) on PATH: it prints a console as
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
	for _, a := range qemu.Arches() {
		if err := os.WriteFile(filepath.Join(bin, a.Binary), []byte(fakeQEMU), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("PATH", bin+":"+os.Getenv("PATH"))
	amd64, arm64 := bothArches(t)
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
		// probed: the run wrote the KVM probe's answer.
		probed bool
	}{
		{name: "status", status: "7", args: []string{image, "sh", "-c", "echo hi; exit 7"}, code: 7,
			stdout: []string{"hi\n"}, stderr: []string{"ERROR: boom"}, noStdout: []string{"Linux version", "Running x", "kernel line"},
			qemu:   []string{`-machine q35 `, `-append console=ttyS0 panic=-1 no_timer_check b2c.run="registry.invalid/b2c/test:1 sh -c 'echo hi; exit 7'"`, "-m 1024", "-smp 2"},
			probed: amd64.Native()},
		{name: "success", status: "0", args: []string{"--mem", "2048", "--cpus", "3", image}, code: 0, qemu: []string{"-m 2048", "-smp 3"}, probed: amd64.Native()},
		{name: "arm64", status: "0", args: []string{"-v", "--arch", "arm64", image}, code: 0,
			stderr: []string{"b2c: accel tcg,thread=single (arm64 guest on a " + runtime.GOARCH + " host: KVM runs the host's architecture only)\nb2c: " + filepath.Join(bin, "qemu-system-aarch64") + " -machine virt -accel tcg,thread=single "},
			qemu:   []string{"-machine virt -accel tcg,thread=single ", `-append console=ttyAMA0 panic=-1 no_timer_check b2c.run="registry.invalid/b2c/test:1"`},
			probed: arm64.Native()},
		{name: "verbose and console log", status: "0", args: []string{"-v", "--console-log", "LOG", image}, code: 0,
			stdout:     []string{"[    0.000000] Linux version 6.12\n", "[   4.10]: Running x\n", "hi\n", "pipeline status: 0\n"},
			consoleLog: []string{"\x1b[0Ksection_start:1:container_run\r\x1b[0K[   4.10]: Running x\n", "hi\n"}, probed: amd64.Native()},
		{name: "boot failure", status: "panic", args: []string{image}, code: exitNoStatus,
			stderr: []string{"Kernel panic - not syncing: fake", "without a pipeline status"}, probed: amd64.Native()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			// The KVM probe's answer is cached there.
			t.Setenv("XDG_CACHE_HOME", filepath.Join(dir, "cache"))
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
			if _, err := os.Stat(filepath.Join(dir, "cache", "b2c", "kvm-probe")); (err == nil) != tt.probed {
				t.Errorf("the KVM probe's answer: %v, want one: %v", err, tt.probed)
			}
		})
	}
}

// A console as the agent writes it, with the container's output ("hi",
// "bye") between the container_run markers.
var guestLines = []string{
	"[    0.000000] Linux version 6.12",
	"hello before the run",
	"\x1b[0Ksection_start:1:container_run\r\x1b[0K[   4.10]: Running x",
	"hi\r",
	"[    4.500000] a kernel line",
	"[   4.60]: an agent line",
	"bye",
	"\x1b[0Ksection_end:1:container_run\r\x1b[0K",
	"after the run",
	"[   5.20]: ERROR: boom",
	"[   5.40]: Execution is over, pipeline status: 3",
}

func TestConsoleFilter(t *testing.T) {
	var many []string
	for i := range tailLines + 5 {
		many = append(many, fmt.Sprintf("[    %d.000000] kernel", i))
	}
	for _, tt := range []struct {
		name           string
		verbose        bool
		lines          []string
		stdout, stderr string
		tail           []string
		status         int
		ended          bool
	}{
		{name: "container output and errors", lines: guestLines,
			stdout: "hi\nbye\n", stderr: "[   5.20]: ERROR: boom\n", status: 3, ended: true},
		{name: "verbose shows every line on stdout", verbose: true, lines: guestLines,
			stdout: "[    0.000000] Linux version 6.12\nhello before the run\n[   4.10]: Running x\nhi\n" +
				"[    4.500000] a kernel line\n[   4.60]: an agent line\nbye\n\nafter the run\n" +
				"[   5.20]: ERROR: boom\n[   5.40]: Execution is over, pipeline status: 3\n",
			status: 3, ended: true},
		{name: "no end of run", lines: guestLines[:5], stdout: "hi\n",
			tail: []string{"[    0.000000] Linux version 6.12", "hello before the run", "[   4.10]: Running x", "hi", "[    4.500000] a kernel line"}},
		{name: "the tail is the last lines", lines: many, tail: many[5:]},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var log, stdout, stderr bytes.Buffer
			f := consoleFilter{verbose: tt.verbose, log: &log, stdout: &stdout, stderr: &stderr}
			var ends int
			for _, l := range tt.lines {
				if f.line(l) == guestconsole.End {
					ends++
				}
			}
			if got, want := log.String(), strings.Join(tt.lines, "\n")+"\n"; got != want {
				t.Errorf("log = %q, want %q", got, want)
			}
			if got := stdout.String(); got != tt.stdout {
				t.Errorf("stdout = %q, want %q", got, tt.stdout)
			}
			if got := stderr.String(); got != tt.stderr {
				t.Errorf("stderr = %q, want %q", got, tt.stderr)
			}
			if tt.tail != nil && strings.Join(f.tail, "\n") != strings.Join(tt.tail, "\n") {
				t.Errorf("tail = %q, want %q", f.tail, tt.tail)
			}
			if status, ended := f.rd.Status(); status != tt.status || ended != tt.ended || ends != btoi(tt.ended) {
				t.Errorf("Status() = %d, %v after %d end lines; want %d, %v", status, ended, ends, tt.status, tt.ended)
			}
		})
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func TestRunEndExit(t *testing.T) {
	const noStatus = " without a pipeline status (see above; -v shows the whole console)\n"
	tail := []string{"[    5.000000] Kernel panic - not syncing: fake", "[    5.100000] end Kernel panic"}
	for _, tt := range []struct {
		name   string
		end    runEnd
		code   int
		stderr string
	}{
		{"success", runEnd{status: 0, ended: true}, 0, ""},
		{"the container's code", runEnd{status: 7, ended: true}, 7, ""},
		{"timeout", runEnd{status: 124, ended: true}, 124, ""},
		{"podman could not run it", runEnd{status: 125, ended: true}, 125, ""},
		{"the container's own 255", runEnd{status: 255, ended: true, tail: tail}, 255, ""},
		{"Ctrl-C", runEnd{cause: errSignal{syscall.SIGINT}, err: errors.New("qemu stopped")}, 130,
			"b2c: run: stopped by interrupt: the VM is stopped\n"},
		{"a signal after the end of the run", runEnd{cause: errSignal{syscall.SIGTERM}, status: 0, ended: true}, 143,
			"b2c: run: stopped by terminated: the VM is stopped\n"},
		{"the VM ended without a status", runEnd{tail: tail, qemuErr: "qemu: warning: x\n"}, exitNoStatus,
			"b2c: run: the console's last lines:\n  " + tail[0] + "\n  " + tail[1] + "\n" +
				"b2c: run: QEMU said:\nqemu: warning: x\n" +
				"b2c: run: the VM ended" + noStatus},
		{"QEMU failed, nothing on its stderr", runEnd{err: errors.New("qemu: exit status 1"), tail: tail[:1]}, exitNoStatus,
			"b2c: run: the console's last lines:\n  " + tail[0] + "\n" +
				"b2c: run: qemu: exit status 1" + noStatus},
		{"verbose: the console is shown already", runEnd{err: errors.New("qemu: exit status 1"), verbose: true, tail: tail, qemuErr: "x\n"}, exitNoStatus,
			"b2c: run: qemu: exit status 1" + noStatus},
		{"the watchdog", runEnd{cause: errors.New("the VM did not end"), err: errors.New("qemu stopped: the VM did not end"), verbose: true}, exitNoStatus,
			"b2c: run: qemu stopped: the VM did not end" + noStatus},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stderr := tt.end.exit()
			if code != tt.code || stderr != tt.stderr {
				t.Errorf("exit() = %d, %q; want %d, %q", code, stderr, tt.code, tt.stderr)
			}
		})
	}
}

func TestKernelTree(t *testing.T) {
	dir, tmp := t.TempDir(), t.TempDir()
	for name, body := range map[string]string{
		"arch/x86/boot/bzImage":                     "KERNEL",
		"lib/modules/6.9.0-dev/modules.dep":         "kernel/drivers/x.ko:\n",
		"lib/modules/6.9.0-dev/modules.builtin":     "",
		"lib/modules/6.9.0-dev/kernel/drivers/x.ko": "X",
	} {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	initramfs := filepath.Join(tmp, "base")
	os.WriteFile(initramfs, []byte("BASE!"), 0o644)
	amd64, arm64 := bothArches(t)
	kernel, initrd, err := kernelTree(t.Context(), amd64, dir, initramfs, tmp, io.Discard, false)
	if err != nil {
		t.Fatal(err)
	}
	if kernel != filepath.Join(dir, "arch/x86/boot/bzImage") {
		t.Errorf("kernel %s", kernel)
	}
	b, _ := os.ReadFile(initrd)
	if !bytes.HasPrefix(b, []byte("BASE!\x00\x00\x00070701")) || !bytes.Contains(b, []byte("lib/modules/6.9.0-dev/kernel/drivers/x.ko")) {
		t.Errorf("initrd: %q...", b[:min(len(b), 40)])
	}
	// A tree without modules boots with the initramfs as it is.
	bare := t.TempDir()
	os.MkdirAll(filepath.Join(bare, "arch/x86/boot"), 0o755)
	os.WriteFile(filepath.Join(bare, "arch/x86/boot/bzImage"), []byte("K"), 0o644)
	if _, initrd, err := kernelTree(t.Context(), amd64, bare, initramfs, tmp, io.Discard, false); err != nil || initrd != initramfs {
		t.Errorf("tree without modules: %s, %v", initrd, err)
	}
	if _, _, err := kernelTree(t.Context(), amd64, t.TempDir(), initramfs, tmp, io.Discard, false); err == nil {
		t.Error("a directory without a kernel was accepted")
	}
	// An arm64 tree boots its arch/arm64/boot/Image, not an x86 kernel
	// the same tree may hold.
	if _, _, err := kernelTree(t.Context(), arm64, bare, initramfs, tmp, io.Discard, false); err == nil {
		t.Error("arm64: a tree with an x86 kernel only was accepted")
	}
	os.MkdirAll(filepath.Join(bare, "arch/arm64/boot"), 0o755)
	os.WriteFile(filepath.Join(bare, "arch/arm64/boot/Image"), []byte("K"), 0o644)
	if kernel, _, err := kernelTree(t.Context(), arm64, bare, initramfs, tmp, io.Discard, false); err != nil || kernel != filepath.Join(bare, "arch/arm64/boot/Image") {
		t.Errorf("arm64 tree: %s, %v", kernel, err)
	}
}

// bothArches returns the amd64 and arm64 machines.
func bothArches(t *testing.T) (amd64, arm64 qemu.Arch) {
	t.Helper()
	amd64, err := qemu.LookupArch("amd64")
	if err != nil {
		t.Fatal(err)
	}
	arm64, err = qemu.LookupArch("arm64")
	if err != nil {
		t.Fatal(err)
	}
	return amd64, arm64
}
