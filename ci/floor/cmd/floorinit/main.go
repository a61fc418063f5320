// Command floorinit is the benchmark floor's init: the least a Linux init
// can do to run b2c's demo payload. It mounts /proc and /dev, prints
// "floor: first line" on the console, runs `busybox echo hello from b2c`,
// prints "floor: done" and powers off. Boot times of b2c are measured
// against it.
package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"

	"golang.org/x/sys/unix"
)

func main() {
	console := setup()
	if err := run(console); err != nil {
		fmt.Fprintf(console, "floor: error: %v\n", err)
	}
	fmt.Fprintln(console, "floor: done")
	unix.Sync()
	// PID 1 must not exit: that panics the kernel. Power off instead.
	if err := unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF); err != nil {
		fmt.Fprintf(console, "floor: power off: %v\n", err)
	}
	select {}
}

// setup mounts /proc and /dev and returns the console. Failures are only
// reported: the payload may still run without them.
func setup() io.Writer {
	var errs []error
	for _, m := range []struct{ src, dir, fstype string }{
		{"proc", "/proc", "proc"},
		{"devtmpfs", "/dev", "devtmpfs"},
	} {
		if err := os.MkdirAll(m.dir, 0o755); err != nil {
			errs = append(errs, err)
			continue
		}
		if err := unix.Mount(m.src, m.dir, m.fstype, unix.MS_NOSUID|unix.MS_NOEXEC, ""); err != nil {
			errs = append(errs, fmt.Errorf("mount %s: %w", m.dir, err))
		}
	}
	// The kernel gave init the initramfs' /dev/console as stdout; if there
	// was none, devtmpfs has one now.
	var console io.Writer = os.Stdout
	if f, err := os.OpenFile("/dev/console", os.O_WRONLY, 0); err == nil {
		console = f
	}
	fmt.Fprintln(console, "floor: first line")
	for _, err := range errs {
		fmt.Fprintf(console, "floor: error: %v\n", err)
	}
	return console
}

// run runs the demo's payload with its output on the console.
func run(console io.Writer) error {
	cmd := exec.Command("/bin/busybox", "echo", "hello from b2c")
	cmd.Stdout, cmd.Stderr = console, console
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	return nil
}
