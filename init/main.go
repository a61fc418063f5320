// Command init is b2c's boot agent, PID 1 of the initramfs. It runs one
// container pipeline described on the kernel command line, prints the
// end-of-run lines, and powers the machine off or reboots it. It never
// exits and never panics: every failure becomes an ERROR line, a pipeline
// status and a normal end of the run.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/debug"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/network"
	"github.com/b2c-dev/b2c/init/pipeline"
	"github.com/b2c-dev/b2c/init/podman"
	"github.com/b2c-dev/b2c/init/reaper"
	"github.com/b2c-dev/b2c/init/volumes"
)

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "b2c init: not PID 1; this is the initramfs' init, not a command to run")
		os.Exit(2)
	}
	rp := reaper.New()
	a := &agent{
		// Until the consoles are open, write to the kernel's console.
		con:    console.New(os.Stdout, console.Uptime, time.Now),
		rp:     rp,
		cfg:    &cmdline.Config{},
		podman: &podman.Service{URI: "unix:///run/podman/podman.sock", Log: "/run/podman.log", Spawn: rp.Start},
	}
	go rp.Run(context.Background())
	a.boot(context.Background())
	a.end()
}

// steps is the boot, in order (step.go runs it). Once a step with a fail
// name failed, the steps after it are skipped, except those marked always:
// the setup a lab reads on the console, and the cleanup. when, detail and
// the steps read a.cfg as they run: the extra options add to it.
func (a *agent) steps() []step {
	return []step{
		{do: a.openConsole, always: true},
		{section: "b2c_setup", header: "Setting up the machine", collapsed: true, always: true, steps: []step{
			{do: a.reportMounts, always: true},
			{section: "runtime_info", header: "Runtime information", collapsed: true, always: true, do: a.runtimeInfo},
			{do: a.reportCmdline, fail: "cmdline", always: true},
			// After the command line's: the first failure names the run's.
			{do: a.mountsFailed, fail: "mounts"},
			{section: "load_modules", header: "Loading the kernel modules", collapsed: true, always: true,
				when: func() bool { return len(a.cfg.Insmods) > 0 }, do: a.loadModules},
			{section: "mount_cache_partition", header: "Mounting the cache partition", collapsed: true, always: true,
				do: a.mountCache, fail: "mount_cache_partition"},
			// podman's service starts in parallel with the network: its
			// socket takes most of a second to come up.
			{do: a.startPodman, always: true},
			{do: a.loopback, always: true},
			{section: "connect", header: "Connecting to the network", collapsed: true,
				when: func() bool { return !a.plan.Off }, do: a.connect},
			{do: a.connected, fail: "connect"}, // its ERROR line follows the section, unfolded
			{section: "ntp_set", header: "Setting the time with NTP", collapsed: true,
				when: func() bool { return a.cfg.NTPPeer != "none" && !a.plan.Off }, do: a.setClock},
			{section: "parse_extra_cmdline", header: "Fetching more options from", collapsed: true,
				detail: func() string { return a.cfg.ExtraArgsURL },
				when:   func() bool { return a.cfg.ExtraArgsURL != "" }, do: a.extraOptions, fail: "parse_extra_cmdline"},
			{section: "set_keymap", header: "Setting the keymap", collapsed: true, always: true,
				detail: func() string { return a.cfg.Keymap },
				when:   func() bool { return a.cfg.Keymap != "" }, do: a.setKeymap},
			{section: "set_hostname", header: "Setting the hostname", collapsed: true, always: true, do: a.setHostname},
		}},
		{do: a.connectPodman, fail: "podman"},
		{do: a.setupStorage, fail: "volumes"},
		{do: a.runPipeline, fail: "volume_push"}, // the pipeline sets its own status
		{section: "cleanup", header: "Cleaning up", collapsed: true, always: true,
			when: func() bool { return a.engine != nil }, do: a.cleanup},
	}
}

// agent is the state of the run that the steps and the end share.
type agent struct {
	con    *console.Console
	rp     *reaper.Reaper
	cfg    *cmdline.Config // &parsed.Config: the extra options add to it
	status pipeline.Status

	// What a step leaves to the steps after it.
	kernelCmdline string // /proc/cmdline
	parsed        *cmdline.Result
	mountWarnings []error
	mountErr      error
	plan          network.Plan
	lease         *network.Lease // nil without a network
	networkErr    error
	serviceErr    error // podman's service did not start
	engine        *podman.Engine

	storage *volumes.Storage
	podman  *podman.Service
}

// boot runs everything up to the end of the pipeline. A panic anywhere in
// it is turned into an ERROR line and a failed status.
func (a *agent) boot(ctx context.Context) {
	defer func() {
		if r := recover(); r != nil {
			a.con.Errorf("b2c crashed: %v\n%s", r, debug.Stack())
			a.status.Code, a.status.FailedBy = 1, "crash"
		}
	}()
	a.run(ctx, a.steps())
}
