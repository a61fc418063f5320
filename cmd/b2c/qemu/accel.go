package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"
)

const (
	// AccelKVM is hardware virtualization, when ProbeKVM says it works.
	AccelKVM = "kvm"
	// AccelTCG is the emulator, with one TCG thread for all vCPUs: under
	// multi-threaded TCG the guest kernel's live code patching (static
	// keys flipped when podman enables the memory controller) was seen to
	// crash a vCPU on a stale int3 in kmem_cache_alloc, or livelock it
	// there, in about one boot in ten. A single thread costs nothing
	// measurable here (the bench's first line: 8.01 s against 7.85 s).
	AccelTCG = "tcg,thread=single"

	// ProbeTimeout bounds the KVM probe boot. A kernel without an
	// initramfs panics within a second under KVM; TCG speed or a hang
	// means KVM is not worth using.
	ProbeTimeout = 10 * time.Second

	// KVMDevice is the device ProbeKVM opens before it boots.
	KVMDevice = "/dev/kvm"
)

// ProbeKVM tells which accelerator to use, and why, by booting kernel
// under KVM without an initramfs: it must print the kernel banner and end
// (panic=-1, -no-reboot) within timeout. /dev/kvm may exist and still
// fail (nested virtualization that rejects MSRs, a hung vCPU), so only a
// real boot tells. dev is the KVM device, KVMDevice outside tests.
func ProbeKVM(ctx context.Context, qemu, kernel, dev string, timeout time.Duration) (accel, why string) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return AccelTCG, fmt.Sprintf("kvm unusable: %v", err)
	}
	f.Close()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The host's own architecture: KVM runs no other.
	m := Machine{Arch: runtime.GOARCH, Kernel: kernel, MemoryMB: 256, SMP: 1}
	cmd := exec.CommandContext(ctx, qemu, m.Args(AccelKVM)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// Do not wait on a pipe that a leftover child might hold open.
	cmd.WaitDelay = time.Second
	err = cmd.Run()
	switch {
	case ctx.Err() != nil:
		return AccelTCG, fmt.Sprintf("kvm probe boot did not end within %v", timeout)
	case err != nil:
		return AccelTCG, fmt.Sprintf("kvm probe failed: %v: %s", err, lastLine(out.String()))
	case !strings.Contains(out.String(), "Linux version"):
		return AccelTCG, "kvm probe boot printed no kernel banner"
	}
	return AccelKVM, "kvm probe boot succeeded"
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// CachedProbeKVM is ProbeKVM with its answer kept in file for as long as
// the host stays up and qemu and kernel do not change: a probe boot that
// hangs costs ProbeTimeout, which every `b2c run` would pay again. dev is
// as for ProbeKVM.
func CachedProbeKVM(ctx context.Context, file, qemu, kernel, dev string) (accel, why string) {
	key, err := probeKey(qemu, kernel)
	if err != nil {
		return ProbeKVM(ctx, qemu, kernel, dev, ProbeTimeout)
	}
	if b, err := os.ReadFile(file); err == nil {
		if k, rest, ok := strings.Cut(string(b), "\n"); ok && k == key {
			if a, w, ok := strings.Cut(strings.TrimSuffix(rest, "\n"), "\n"); ok && (a == AccelKVM || a == AccelTCG) {
				return a, w + " (cached in " + file + ")"
			}
		}
	}
	accel, why = ProbeKVM(ctx, qemu, kernel, dev, ProbeTimeout)
	if ctx.Err() == nil {
		// Best effort: without the file, the next run probes again.
		_ = os.MkdirAll(filepath.Dir(file), 0o755)
		_ = os.WriteFile(file, []byte(key+"\n"+accel+"\n"+why+"\n"), 0o644)
	}
	return accel, why
}

// probeKey names the host's boot and the files the probe depends on.
func probeKey(qemu, kernel string) (string, error) {
	boot, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return "", err
	}
	key := "boot " + strings.TrimSpace(string(boot))
	for _, f := range []string{qemu, kernel} {
		fi, err := os.Stat(f)
		if err != nil {
			return "", err
		}
		key += fmt.Sprintf(" %s %d %d", f, fi.Size(), fi.ModTime().UnixNano())
	}
	return key, nil
}
