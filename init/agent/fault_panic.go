//go:build b2c_fault_panic

package agent

import "time"

// A test-only build of the agent (ci/e2e TestFaultPanic): a goroutine
// panics a few seconds into the run, as a bug in the agent would, and the
// watchdog (init/pid1) must end the run in its place. It starts with the
// agent, not at init: podman's service is the same binary.
func injectFaults() {
	go func() {
		time.Sleep(5 * time.Second)
		panic("b2c_fault_panic: a panic injected for a test")
	}()
}
