package vm

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

const (
	accelKVM = "kvm"
	// One TCG thread for all vCPUs: under multi-threaded TCG the guest
	// kernel's live code patching (static keys flipped when podman
	// enables the memory controller) was seen to crash a vCPU on a stale
	// int3 in kmem_cache_alloc, or livelock it there, in about one boot
	// in ten. A single thread costs nothing measurable here (the bench's
	// first line: 8.01 s against 7.85 s).
	accelTCG = "tcg,thread=single"

	// probeTimeout bounds the KVM probe boot. A kernel without an
	// initramfs panics within a second under KVM; TCG-speed or a hang
	// means KVM is not worth using.
	probeTimeout = 10 * time.Second
)

// accelProbe remembers, for the life of the process, whether KVM works:
// /dev/kvm may exist and still fail (nested virtualization that rejects
// MSRs, a hung vCPU), so only a real boot tells.
type accelProbe struct {
	once  sync.Once
	accel string
	why   string
}

// probe is the process-wide probe result: whether KVM works does not
// change while tests run, and each probe costs a boot.
var probe accelProbe

// get returns the accelerator to use and why, probing on the first call.
func (p *accelProbe) get(qemu, kernel string) (accel, why string) {
	p.once.Do(func() { p.accel, p.why = probeKVM(qemu, kernel, "/dev/kvm", probeTimeout) })
	return p.accel, p.why
}

// probeKVM boots kernel under KVM without an initramfs, which must reach
// the kernel banner and end (panic=-1, -no-reboot) within timeout.
func probeKVM(qemu, kernel, dev string, timeout time.Duration) (accel, why string) {
	f, err := os.OpenFile(dev, os.O_RDWR, 0)
	if err != nil {
		return accelTCG, fmt.Sprintf("kvm unusable: %v", err)
	}
	f.Close()

	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := config{qemu: qemu, kernel: kernel, memoryMB: 256, smp: 1}
	cmd := exec.CommandContext(ctx, qemu, c.args(accelKVM)...)
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
		return accelTCG, fmt.Sprintf("kvm probe boot did not end within %v", timeout)
	case err != nil:
		return accelTCG, fmt.Sprintf("kvm probe failed: %v: %s", err, lastLine(out.String()))
	case !strings.Contains(out.String(), "Linux version"):
		return accelTCG, "kvm probe boot printed no kernel banner"
	}
	return accelKVM, "kvm probe boot succeeded"
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
