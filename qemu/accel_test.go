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
