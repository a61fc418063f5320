// Package power ends the run: it runs the lab's shutdown or reboot command
// when one is given, and otherwise (or when that command returns) syncs
// the disks and powers off or reboots with reboot(2).
package power

import (
	"golang.org/x/sys/unix"
)

// Off syncs and powers the machine off, or reboots it. It returns only if
// reboot(2) fails.
func Off(reboot bool) error {
	unix.Sync()
	cmd := unix.LINUX_REBOOT_CMD_POWER_OFF
	if reboot {
		cmd = unix.LINUX_REBOOT_CMD_RESTART
	}
	return unix.Reboot(cmd)
}
