package vm

import (
	"context"
	"sync"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
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
func (p *accelProbe) get(bin, kernel string) (accel, why string) {
	p.once.Do(func() {
		p.accel, p.why = qemu.ProbeKVM(context.Background(), bin, kernel, qemu.KVMDevice, qemu.ProbeTimeout)
	})
	return p.accel, p.why
}
