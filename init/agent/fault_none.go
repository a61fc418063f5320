//go:build !b2c_fault_panic

package agent

// injectFaults does nothing but in the fault suite's builds
// (fault_panic.go).
func injectFaults() {}
