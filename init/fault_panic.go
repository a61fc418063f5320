//go:build b2c_fault_panic

package main

import "time"

// A test-only build of the agent (ci/e2e TestFaultPanic): a goroutine
// panics a few seconds into the run, as a bug in the agent would, and the
// watchdog (init/pid1) must end the run in its place.
func init() {
	go func() {
		time.Sleep(5 * time.Second)
		panic("b2c_fault_panic: a panic injected for a test")
	}()
}
