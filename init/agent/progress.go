package agent

import (
	"fmt"
	"os"
	"time"

	"github.com/b2c-dev/b2c/init/watchdog"
)

// watchProgress reports the pipeline's progress to the watchdog until the
// returned function is called: network bytes moving, or podman's service
// reading and writing, during a pull or a volume transfer; podman's
// service answering while a container runs. A
// registry, an S3 server or a podman service that stalls stops the
// reports, and the watchdog ends the run (docs/cmdline.md, "Bounds").
func (a *agent) watchProgress() (stop func()) {
	if a.wd == nil {
		return func() {}
	}
	done := make(chan struct{})
	ioFile := fmt.Sprintf("/proc/%d/io", a.podman.PID())
	go func() {
		const every = 5 * time.Second
		// Below this many bytes in a period, the network is idle: ARP,
		// DHCP and broadcasts do not count as a pull's progress.
		const minBytes = 64 << 10
		var last uint64
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
			}
			raw, _ := os.ReadFile("/proc/net/dev")
			n := watchdog.NetBytes(string(raw))
			raw, _ = os.ReadFile(ioFile)
			n += watchdog.IOBytes(string(raw))
			switch section := a.wd.Current(); section {
			case "create_container", "start_service_container", "execute_hooks":
				if n-last >= minBytes {
					a.wd.Kick(section)
				}
			case "container_run":
				if a.engine.Ping(10*time.Second) == nil {
					a.wd.Kick(section)
				}
			}
			last = n
		}
	}()
	return func() { close(done) }
}
