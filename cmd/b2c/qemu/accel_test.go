package qemu

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestProbeKVM(t *testing.T) {
	dir := t.TempDir()
	dev := filepath.Join(dir, "kvm")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, script string
		dev          string
		accel, why   string
	}{
		{"works", "echo '[ 0.0] Linux version 6.1'\n", dev, AccelKVM, "succeeded"},
		{"no device", "exit 0\n", filepath.Join(dir, "none"), AccelTCG, "kvm unusable"},
		{"msr", "echo 'qemu-system-x86_64: error: failed to set MSR 0x10a to 0x0' >&2\nexit 1\n", dev, AccelTCG, "failed to set MSR 0x10a"},
		{"hangs", "echo '[ 0.0] Linux version 6.1'\nexec sleep 600\n", dev, AccelTCG, "did not end within"},
		{"silent", "exit 0\n", dev, AccelTCG, "no kernel banner"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			qemu := filepath.Join(t.TempDir(), "qemu")
			if err := os.WriteFile(qemu, []byte("#!/bin/sh\n"+tt.script), 0o755); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			accel, why := ProbeKVM(t.Context(), qemu, "/k", tt.dev, 500*time.Millisecond)
			if accel != tt.accel || !strings.Contains(why, tt.why) {
				t.Errorf("ProbeKVM = %q, %q; want %q, %q", accel, why, tt.accel, tt.why)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("ProbeKVM took %v", d)
			}
		})
	}
}

func TestCachedProbeKVM(t *testing.T) {
	dir := t.TempDir()
	count := filepath.Join(dir, "count")
	qemu := filepath.Join(dir, "qemu")
	// Each probe appends a line to count; the boot fails, as on a host
	// where KVM does not work.
	if err := os.WriteFile(qemu, []byte("#!/bin/sh\necho probe >> "+count+"\nexit 1\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	kernel := filepath.Join(dir, "bzImage")
	if err := os.WriteFile(kernel, []byte("k"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A device that opens, so that the probe boots wherever the test runs.
	dev := filepath.Join(dir, "kvm")
	if err := os.WriteFile(dev, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "cache", "kvm-probe")
	probes := func() int {
		b, _ := os.ReadFile(count)
		return strings.Count(string(b), "probe")
	}
	for i, want := range []struct {
		probes int
		why    string
	}{{1, "kvm probe failed"}, {1, "(cached in " + file + ")"}} {
		accel, why := CachedProbeKVM(t.Context(), file, qemu, kernel, dev)
		if accel != AccelTCG || probes() != want.probes || !strings.Contains(why, want.why) {
			t.Errorf("call %d: %s (%s) after %d probes, want %s (…%s…) after %d", i+1, accel, why, probes(), AccelTCG, want.why, want.probes)
		}
	}
	// A new kernel is probed again.
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(kernel, later, later); err != nil {
		t.Fatal(err)
	}
	if CachedProbeKVM(t.Context(), file, qemu, kernel, dev); probes() != 2 {
		t.Errorf("after the kernel changed: %d probes, want 2", probes())
	}
}
