// Package agent is b2c's boot agent: it runs one container pipeline
// described on the kernel command line, prints the end-of-run lines, and
// powers the machine off or reboots it. It never exits and never panics:
// every failure becomes an ERROR line, a pipeline status and a normal end
// of the run. In the image it is podman's own binary run as /bin/init
// (Register), and PID 1 (init/pid1) supervises it.
package agent

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/network"
	"github.com/b2c-dev/b2c/init/pipeline"
	"github.com/b2c-dev/b2c/init/podman"
	"github.com/b2c-dev/b2c/init/reaper"
	"github.com/b2c-dev/b2c/init/volumes"
	"github.com/b2c-dev/b2c/init/watchdog"
)

// Main runs the agent, as the initramfs' /bin/init; it does not return.
func Main() {
	// PID 1 is the watchdog (init/pid1), which starts the agent; an
	// agent that is PID 1 itself runs unwatched.
	wd := watchdog.FromEnv()
	if os.Getpid() != 1 && wd == nil {
		fmt.Fprintln(os.Stderr, "b2c init: not PID 1; this is the initramfs' init, not a command to run")
		os.Exit(2)
	}
	if wd != nil {
		// conmon and the containers' processes that lose their parent
		// come to the agent, whose reaper waits for them, not to PID 1.
		unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	}
	rp := reaper.New()
	a := &agent{
		// Until the consoles are open, write to the kernel's console.
		con:    console.New(os.Stdout, console.Uptime, time.Now),
		rp:     rp,
		wd:     wd,
		cfg:    &cmdline.Config{},
		podman: &podman.Service{URI: PodmanURI, Log: "/run/podman.log", Spawn: rp.Start},
	}
	go rp.Run(context.Background())
	injectFaults()
	// A --pid=host container can signal PID 1, and Go's default answer to
	// SIGTERM, SIGHUP and SIGINT is to exit: the kernel panics when PID 1
	// exits. They are caught and dropped, not ignored: an ignored signal
	// stays ignored in every child (podman, containers), a caught one
	// gets its default back at exec.
	signal.Notify(make(chan os.Signal, 1), unix.SIGTERM, unix.SIGHUP, unix.SIGINT)
	a.boot(context.Background())
	a.end()
}

// steps is the boot, in order (step.go runs it). Its sections are flat
// and in the original's order (docs/cmdline.md, "Sections"); the pipeline
// prints its own (init/pipeline), the end unmount_cache_partition. Once a
// step with a fail name failed, the steps after it are skipped, except
// those marked always: the setup a lab reads on the console, and the
// cleanup. when, detail and the steps read a.cfg as they run: the extra
// options add to it.
func (a *agent) steps() []step {
	return []step{
		{do: a.openConsole, always: true},
		{section: watchdog.SetupSection, header: watchdog.SetupHeader, always: true, do: a.reportMounts},
		{section: "runtime_info", header: "Runtime information", always: true, do: a.runtimeInfo},
		// Outside any section, unfolded: errors of the command line stop the run.
		{do: a.reportCmdline, fail: "cmdline", always: true},
		// After the command line's: the first failure names the run's.
		{do: a.mountsFailed, fail: "mounts"},
		{section: "load_modules", header: "Loading the kernel modules", always: true, do: a.loadModules},
		// Without extra options, the storage is known: podman's service
		// starts in parallel with the network (its socket takes most of a
		// second to come up). Storage over the network waits for it.
		{section: "mount_cache_partition", header: "Mounting the cache partition", always: true,
			when: a.storageFirst, do: a.mountCache, fail: "mount_cache_partition"},
		{do: a.startPodman, always: true, when: a.storageFirst},
		{do: a.loopback, always: true},
		{section: "connect", header: "Connecting to the network", do: a.connect},
		{do: a.connected, fail: "connect"}, // its ERROR line follows the section, unfolded
		{section: "ntp_set", header: "Setting the time with NTP", do: a.setClock},
		{section: "parse_extra_cmdline", header: "Fetching more options",
			detail: func() string { return prefixed("from ", a.cfg.ExtraArgsURL) }, do: a.extraOptions, fail: "parse_extra_cmdline"},
		// With extra options, the storage waits for them: they count as if
		// on the kernel's line, b2c.cache_device and b2c.swap included
		// (the one move of a section that docs/cmdline.md allows). So does
		// storage that the network carries.
		{section: "mount_cache_partition", header: "Mounting the cache partition",
			when: func() bool { return !a.storageFirst() }, do: a.mountCache, fail: "mount_cache_partition"},
		{do: a.startPodman, when: func() bool { return !a.storageFirst() }},
		{section: "set_hostname", header: "Setting the hostname", do: a.setHostname},
		{section: "set_keymap", header: "Setting the keymap", detail: func() string { return a.cfg.Keymap }, do: a.setKeymap},
		{section: "start_pipeline", header: "Starting the pipeline", steps: []step{
			{do: a.connectPodman, fail: "podman"},
			{do: a.setupVolumes, fail: "volumes"},
		}},
		{do: a.runPipeline}, // the pipeline sets its own status
		{section: "cleanup", header: "Cleaning up", always: true,
			when: func() bool { return a.engine != nil }, do: a.cleanup},
	}
}

// storageFirst says whether the storage is set up before the network: when
// the kernel's command line names no extra options, which could change it,
// and no storage that the network carries (b2c.nbd, NFS).
func (a *agent) storageFirst() bool {
	return a.kernelCfg.ExtraArgsURL == "" && !volumes.NeedsNetwork(&a.kernelCfg)
}

// prefixed returns s after prefix, or nothing without s.
func prefixed(prefix, s string) string {
	if s == "" {
		return ""
	}
	return prefix + s
}

// agent is the state of the run that the steps and the end share.
type agent struct {
	con    *console.Console
	rp     *reaper.Reaper
	wd     *watchdog.Reporter // nil: no watchdog
	cfg    *cmdline.Config    // &parsed.Config: the extra options add to it
	status pipeline.Status

	// What a step leaves to the steps after it.
	kernelCmdline string         // /proc/cmdline
	kernelTime    time.Duration  // the uptime of the run's first line
	continued     string         // the section whose header PID 1 printed, until the agent is in it
	kernelCfg     cmdline.Config // what the kernel's line alone says
	parsed        *cmdline.Result
	mountWarnings []error
	mountErr      error
	plan          network.Plan
	lease         *network.Lease // nil without a network
	networkErr    error
	serviceErr    error // podman's service did not start
	engine        *podman.Engine

	storage   *volumes.Storage
	stopWatch context.CancelFunc // ends the watch of the storage's servers
	podman    *podman.Service
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
