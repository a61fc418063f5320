package qemu

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
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
)

// ProbeKVM tells which accelerator to use, and why, by booting kernel
// under KVM without an initramfs: it must print the kernel banner and end
// (panic=-1, -no-reboot) within timeout. /dev/kvm may exist and still
// fail (nested virtualization that rejects MSRs, a hung vCPU), so only a
// real boot tells. dev is the KVM device, /dev/kvm outside tests.
func ProbeKVM(ctx context.Context, qemu, kernel, dev string, timeout time.Duration) (accel, why string) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return AccelTCG, fmt.Sprintf("kvm unusable: %v", err)
	}
	f.Close()

	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	m := Machine{Kernel: kernel, MemoryMB: 256, SMP: 1}
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
