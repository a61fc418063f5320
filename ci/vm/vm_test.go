package vm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// fakeQEMU writes a shell script that stands in for QEMU (its arguments
// are ignored) and returns the options that boot it.
func fakeQEMU(t *testing.T, script string) []Option {
	t.Helper()
	dir := t.TempDir()
	qemu := filepath.Join(dir, "qemu")
	if err := os.WriteFile(qemu, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
	kernel := filepath.Join(dir, "bzImage")
	if err := os.WriteFile(kernel, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return []Option{QEMU(qemu), Kernel(kernel), Accel("tcg"), Log(TestLog(t))}
}

func start(t *testing.T, script string, opts ...Option) *VM {
	t.Helper()
	v, err := Start(t.Context(), append(fakeQEMU(t, script), opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Kill)
	return v
}

func TestExpect(t *testing.T) {
	v := start(t, `
printf 'Linux version 6.1\r\n'
sleep 0.2
printf 'step 1\r\nstep 2\r\n'
printf 'status: 42\r\n'
printf 'no newline'
`)
	for _, tt := range []struct {
		re   string
		want []string
	}{
		{`^Linux version (\S+)`, []string{"Linux version 6.1", "6.1"}},
		{`step \d`, []string{"step 1"}},
		// Expect goes on after the previous match.
		{`step \d`, []string{"step 2"}},
		{`status: (\d+)$`, []string{"status: 42", "42"}},
		{`no newline`, []string{"no newline"}},
	} {
		got, err := v.Expect(tt.re)
		if err != nil {
			t.Fatalf("Expect(%q): %v", tt.re, err)
		}
		if strings.Join(got, "|") != strings.Join(tt.want, "|") {
			t.Errorf("Expect(%q) = %q, want %q", tt.re, got, tt.want)
		}
	}
	if err := v.Wait(); err != nil {
		t.Errorf("Wait: %v", err)
	}
	if _, err := v.Expect(`Linux version`); err == nil || !strings.Contains(err.Error(), "qemu exited") {
		t.Errorf("Expect of a consumed line after exit: %v, want a qemu exited error", err)
	}

	want := "Linux version 6.1\nstep 1\nstep 2\nstatus: 42\nno newline\n"
	if got := v.Console(); got != want {
		t.Errorf("Console() = %q, want %q", got, want)
	}
	first, ok, err := v.FirstLine(`^Linux`)
	if err != nil || !ok {
		t.Fatalf("FirstLine(^Linux) = %v, %v", ok, err)
	}
	step, ok, err := v.FirstLine(`step`)
	if err != nil || !ok {
		t.Fatalf("FirstLine(step) = %v, %v", ok, err)
	}
	if d := step.At - first.At; d < 150*time.Millisecond {
		t.Errorf("step 1 came %v after the banner, want about 200ms", d)
	}
	if _, ok, _ := v.FirstLine(`never`); ok {
		t.Errorf("FirstLine(never) found a line")
	}
	if _, _, err := v.FirstLine(`(`); err == nil {
		t.Errorf("FirstLine with a bad regexp: no error")
	}
	if v.Started().IsZero() || len(v.Lines()) != 5 {
		t.Errorf("Started() = %v, %d lines", v.Started(), len(v.Lines()))
	}
}

// groupAlive reports whether a process of the process group pgid runs.
// Zombies do not count: orphans wait for a busy init to reap them.
func groupAlive(t *testing.T, pgid int) bool {
	t.Helper()
	stats, err := filepath.Glob("/proc/[0-9]*/stat")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // ended meanwhile
		}
		// pid (comm) state ppid pgrp ...; comm may hold spaces.
		fields := strings.Fields(string(b[strings.LastIndexByte(string(b), ')')+1:]))
		if len(fields) > 2 && fields[2] == strconv.Itoa(pgid) && fields[0] != "Z" {
			return true
		}
	}
	return false
}

func TestTimeout(t *testing.T) {
	// A child in the background checks that the whole group dies.
	v := start(t, "sleep 600 &\necho booting\nwait\n", Timeout(500*time.Millisecond))
	_, err := v.Expect(`never printed`)
	if err == nil {
		t.Fatal("Expect: no error on timeout")
	}
	for _, want := range []string{"timed out after 500ms", `waiting for "never printed"`, "console tail:", "booting"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Expect error %q does not contain %q", err, want)
		}
	}
	if err := v.Wait(); err == nil || !strings.Contains(err.Error(), "timed out") {
		t.Errorf("Wait = %v, want a timeout", err)
	}
	pid := v.cmd.Process.Pid
	if groupAlive(t, pid) {
		t.Errorf("process group %d survived the timeout", pid)
	}
}

func TestContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	v, err := Start(ctx, fakeQEMU(t, "echo up\nexec sleep 600\n")...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Kill)
	if _, err := v.Expect("up"); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := v.Wait(); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait = %v, want context.Canceled", err)
	}
}

func TestKill(t *testing.T) {
	v := start(t, "echo up\nexec sleep 600\n")
	if _, err := v.Expect("up"); err != nil {
		t.Fatal(err)
	}
	v.Kill()
	v.Kill() // idempotent
	select {
	case <-v.Done():
	default:
		t.Error("Done not closed after Kill")
	}
	if err := v.Wait(); !errors.Is(err, errKilled) {
		t.Errorf("Wait = %v, want errKilled", err)
	}
}

func TestExitBeforeMatch(t *testing.T) {
	v := start(t, "echo last words\necho 'qemu: bad option' >&2\nexit 3\n")
	_, err := v.Expect(`never`)
	if err == nil {
		t.Fatal("Expect: no error when qemu exits")
	}
	for _, want := range []string{"exit status 3", "last words", "qemu stderr:", "bad option"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("Expect error %q does not contain %q", err, want)
		}
	}
	if err := v.Wait(); err == nil || !strings.Contains(err.Error(), "exit status 3") {
		t.Errorf("Wait = %v, want exit status 3", err)
	}
}

func TestExpectWithin(t *testing.T) {
	v := start(t, "echo up\nexec sleep 600\n")
	if _, err := v.ExpectWithin(`up`, time.Second); err != nil {
		t.Fatal(err)
	}
	_, err := v.ExpectWithin(`never`, 200*time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "deadline") {
		t.Errorf("ExpectWithin = %v, want a deadline error", err)
	}
	if _, err := v.Expect(`(`); err == nil {
		t.Errorf("Expect with a bad regexp: no error")
	}
}

func TestSend(t *testing.T) {
	v := start(t, "read line\necho \"got $line\"\n")
	if err := v.Send("ping\n"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.Expect(`^got ping$`); err != nil {
		t.Fatal(err)
	}
	if err := v.Wait(); err != nil {
		t.Fatal(err)
	}
}

func TestStartErrors(t *testing.T) {
	dir := t.TempDir()
	kernel := filepath.Join(dir, "bzImage")
	if err := os.WriteFile(kernel, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		opts []Option
		want string
	}{
		{"no kernel", nil, "no kernel"},
		{"missing kernel", []Option{Kernel(filepath.Join(dir, "nope"))}, "no such file"},
		{"missing initramfs", []Option{Kernel(kernel), Initramfs(filepath.Join(dir, "nope"))}, "no such file"},
		{"missing disk", []Option{Kernel(kernel), Disk(filepath.Join(dir, "nope"))}, "no such file"},
		{"missing qemu", []Option{Kernel(kernel), QEMU(filepath.Join(dir, "qemu"))}, "qemu-system-x86"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Start(t.Context(), tt.opts...)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Start = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

type fakeT struct{ logged []string }

func (f *fakeT) Log(args ...any) { f.logged = append(f.logged, args[0].(string)) }

func TestTestLog(t *testing.T) {
	var f fakeT
	w := TestLog(&f)
	for _, s := range []string{"a\nb", "c\n", "\n", "d"} {
		if _, err := w.Write([]byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := strings.Join(f.logged, "|"), "a|bc|"; got != want {
		t.Errorf("logged %q, want %q", got, want)
	}
}
