package agent

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/b2c-dev/b2c/init/power"
)

// end prints the end-of-run lines and powers off or reboots, whatever
// happened before. It never returns.
func (a *agent) end() {
	con, cfg, status := a.con, a.cfg, a.status
	reboot := status.Reboot
	a.wd.Status(status.Code, reboot)
	defer func() {
		// A panic here must still end the run: the kernel panics if PID
		// 1 exits, and a lab waits on a machine that never powers off.
		if r := recover(); r != nil {
			fmt.Fprintf(os.Stdout, "ERROR: b2c crashed at the end of the run: %v\n", r)
			power.Off(false)
		}
		for {
			time.Sleep(time.Hour)
		}
	}()
	// Whatever happened, the cache is unmounted cleanly before the end
	// lines: a lab may cut the power as soon as it sees them.
	con.Section("unmount_cache_partition", "Unmounting the cache partition", func() error {
		// podman's service and its children keep files open on the cache.
		a.podman.Stop(5 * time.Second)
		if a.storage != nil { // nil: the boot crashed before the storage step
			a.storage.Unmount()
			a.stopWatch()
		}
		return nil
	})
	con.Timings(a.kernelTime)
	con.End(status.Code, reboot)
	a.wd.Ended(cfg.PoweroffDelay + 5*time.Minute)
	if cfg.PoweroffDelay > 0 && !reboot {
		time.Sleep(cfg.PoweroffDelay)
	}
	shell := cfg.ShutdownCmd
	if reboot {
		shell = cfg.RebootCmd
	}
	if shell != "" {
		cmd := exec.Command("/bin/sh", "-c", shell)
		cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}, status.Env()...)
		cmd.Stdout, cmd.Stderr = con.Direct(), con.Direct()
		if _, err := a.rp.RunCmd(context.Background(), cmd); err != nil {
			con.Warnf("%s: %v", shell, err)
		}
	}
	if err := power.Off(reboot); err != nil {
		con.Errorf("power off: %v", err)
	}
}

// lineWriter turns a library's log output into console lines.
type lineWriter func(format string, args ...any)

func (l lineWriter) Write(p []byte) (int, error) {
	for _, line := range strings.Split(strings.TrimRight(string(p), "\n"), "\n") {
		l("%s", line)
	}
	return len(p), nil
}
