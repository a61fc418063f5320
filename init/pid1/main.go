// Command pid1 is the initramfs' /init: a small supervisor that starts the
// boot agent (/bin/init) and ends the run in its place when the agent
// overstays a step or dies (init/watchdog). Being small, it starts in a
// few milliseconds and has little that could fail.
package main

import (
	"fmt"
	"os"
	"os/signal"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/modules"
	"github.com/b2c-dev/b2c/init/mounts"
	"github.com/b2c-dev/b2c/init/watchdog"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "pid1: not PID 1; this is the initramfs' init, not a command to run")
		os.Exit(2)
	}
	// A --pid=host container can signal PID 1, and Go's default answer to
	// these is to exit, which panics the kernel. Caught, not ignored: an
	// ignored signal stays ignored in the agent and all it starts.
	signal.Notify(make(chan os.Signal, 1), unix.SIGTERM, unix.SIGHUP, unix.SIGINT)
	// The agent is podman's binary, in a squashfs image, whose C code
	// reads /proc/self/cmdline before Go starts. Our kernel has loop
	// and squashfs built in, and no modules: nothing loads, quietly.
	if _, err := os.Stat("/lib/modules"); err == nil {
		modules.System().Load(mounts.EarlyModules())
	}
	warnings, err := mounts.Apply(mounts.Early())
	// The run's first lines, now that /dev has the consoles: the agent
	// takes seconds to start on a slow machine.
	con, opened := watchdog.Open()
	for _, w := range warnings {
		con.Warnf("%v", w)
	}
	if err != nil {
		// The agent's start fails next, and the watchdog ends the run.
		con.Errorf("%v (%s)", err, mounts.EarlyHint)
	}
	// The agent is podman's binary (agent.Register), which decides at
	// its start whether it is a client of a service: it is, of the
	// service it starts on this socket (agent.PodmanURI).
	os.Setenv("CONTAINER_HOST", mounts.PodmanURI)
	watchdog.Supervise("/bin/init", opened)
}
