package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/clock"
	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/fetch"
	"github.com/b2c-dev/b2c/init/filesystems"
	"github.com/b2c-dev/b2c/init/keymap"
	"github.com/b2c-dev/b2c/init/modules"
	"github.com/b2c-dev/b2c/init/mounts"
	"github.com/b2c-dev/b2c/init/network"
	"github.com/b2c-dev/b2c/init/sysinfo"
	"github.com/b2c-dev/b2c/init/volumes"
	"github.com/b2c-dev/b2c/init/watchdog"
)

// openConsole mounts the kernel's file systems, reads the command line and
// opens the consoles it names. Its first line there closes the section a
// lab opened before the kernel booted (docs/cmdline.md, "Sections"): until
// then the agent writes nothing, as the kernel's console is only the last
// of the consoles, and what went wrong opening them is printed after.
func (a *agent) openConsole(context.Context) error {
	a.mountWarnings, a.mountErr = mounts.Apply(mounts.Table("/", "80%"))
	raw, readErr := os.ReadFile("/proc/cmdline")
	a.kernelCmdline = string(raw)
	a.parsed = cmdline.Parse(a.kernelCmdline)
	a.cfg = &a.parsed.Config
	a.kernelCfg = a.parsed.Config
	w, in, openErr := console.Open("/dev", a.cfg.Consoles)
	if openErr == nil {
		a.con = console.New(w, console.Uptime, time.Now)
		os.Stdin = in
	}
	a.con.Watch(a.wd.Section)
	setPanicTimeout(a.kernelCmdline)
	if opened, ok := watchdog.Opened(); ok {
		// PID 1 printed the run's first lines (watchdog.Open): the
		// agent carries on in the section they opened.
		a.kernelTime, a.continued = opened, watchdog.SetupSection
	} else {
		a.kernelTime = console.Uptime()
		a.con.SectionEnd(watchdog.KernelSection)
	}
	if readErr != nil {
		a.con.Errorf("read /proc/cmdline: %v", readErr)
	}
	if openErr != nil {
		a.con.Warnf("%v", openErr)
	}
	a.redactSecrets()
	// u-root's DHCP client logs whole packets; the network step prints
	// its own summary and diagnostics instead.
	log.SetOutput(io.Discard)
	// podman's bindings log warnings: keep them in the console's format.
	logrus.SetOutput(lineWriter(a.con.Logf))
	logrus.SetLevel(logrus.WarnLevel)
	return nil
}

func (a *agent) redactSecrets() {
	for _, s := range a.parsed.Secrets() {
		a.con.Redact(s)
	}
}

// reportMounts prints what went wrong mounting the kernel's file systems,
// which happened before the console was open.
func (a *agent) reportMounts(context.Context) error {
	for _, w := range a.mountWarnings {
		a.con.Warnf("%v", w)
	}
	if a.mountErr != nil {
		a.con.Errorf("%v", a.mountErr)
	}
	return nil
}

func (a *agent) mountsFailed(context.Context) error {
	if a.mountErr != nil {
		return errReported // by reportMounts
	}
	return nil
}

func (a *agent) runtimeInfo(context.Context) error {
	// Our kernel keeps its own echo of the command line off the console,
	// where it would show the keys; this one goes through the redaction.
	a.con.Logf("Kernel command line: %s", strings.TrimSpace(a.kernelCmdline))
	for _, l := range sysinfo.Read("/").Lines() {
		a.con.Logf("%s", l)
	}
	return nil
}

func (a *agent) reportCmdline(context.Context) error {
	return a.report(a.parsed.Diagnostics)
}

// report prints the diagnostics of the command line, and returns
// errReported if one of them is an error.
func (a *agent) report(diags []cmdline.Diagnostic) error {
	var err error
	for _, d := range diags {
		if d.Error {
			a.con.Errorf("%s: %s", d.Token, d.Message)
			err = errReported
		} else {
			a.con.Warnf("%s: %s", d.Token, d.Message)
		}
	}
	return err
}

func (a *agent) loadModules(context.Context) error {
	loader := modules.System()
	// A distribution kernel, with its modules appended to the image:
	// load what the machine's devices ask for, as udev would, and what
	// b2c itself needs (the kernel would ask a modprobe the image lacks).
	aliases, err := modules.KernelAliases()
	if err != nil {
		a.con.Warnf("read the kernel's modules.alias: %v", err)
	}
	if len(aliases) > 0 {
		start := time.Now()
		loaded, errs := loader.Coldplug(aliases, func() []string { return modules.Modaliases("/sys") })
		for _, m := range []string{"overlay", "ext4"} {
			if !slices.Contains(loaded, m) && loader.ByName(m) == nil {
				loaded = append(loaded, m)
			}
		}
		a.con.Logf("Loaded %d modules for this machine's devices in %.2fs: %s", len(loaded), time.Since(start).Seconds(), strings.Join(loaded, " "))
		if len(errs) > 0 {
			a.con.Warnf("%d modules asked for by devices did not load (the devices may not work): %v", len(errs), errors.Join(errs...))
		}
	}
	// A module that does not load is a warning: the machine may well run
	// without it, and the lab sees which one failed.
	for _, err := range loader.Load(a.cfg.Insmods) {
		a.con.Warnf("%v", err)
	}
	return nil
}

// mountCache mounts the cache. Without it b2c works, from RAM: only a
// b2c.filesystem that does not mount fails the run.
func (a *agent) mountCache(ctx context.Context) error {
	a.storage = volumes.New(a.con, a.cfg, a.rp.RunCmd)
	a.storage.Progress = func() { a.wd.Kick("execute_hooks") }
	a.storage.Lost = a.storageLost
	err := a.storage.Mount(ctx)
	a.watchServers()
	return err
}

// watchServers watches the servers of the network file systems until the
// storage is unmounted: one that stops answering is a WARNING after 30 s,
// and ends the run after 2 minutes (docs/cmdline.md, b2c.filesystem).
func (a *agent) watchServers() {
	ctx, cancel := context.WithCancel(context.Background())
	a.stopWatch = cancel
	filesystems.Watcher{
		Every: 5 * time.Second, Warn: 30 * time.Second, Lost: 2 * time.Minute,
		Probe: func(path string) error { var st unix.Statfs_t; return unix.Statfs(path, &st) },
		Logf:  a.con.Logf, Warnf: a.con.Warnf,
		Gone: a.storageLost,
	}.Run(ctx, filesystems.Plan("/", a.cfg.Filesystems))
}

// storageLost ends the run with msg: a server that the storage needs is
// gone. The supervisor ends it: the agent may be blocked by the lost
// server anywhere (a read, a sync), and podman's state may be lost with it.
func (a *agent) storageLost(msg string) {
	if a.wd == nil {
		a.con.Errorf("%s", msg) // no supervisor to end the run
		return
	}
	a.wd.Abort(a.con.Mask(msg)) // the supervisor does not know the secrets
}

func (a *agent) startPodman(context.Context) error {
	a.serviceErr = a.podman.Start(a.cfg.Proxy.Env())
	return nil
}

// loopback brings up the loopback, and chooses how to reach the network.
func (a *agent) loopback(context.Context) error {
	if err := network.Loopback(); err != nil {
		a.con.Warnf("%v", err)
	}
	a.plan = network.PlanFor(a.cfg)
	return nil
}

func (a *agent) connect(ctx context.Context) error {
	if a.plan.Off {
		a.con.Logf("Network: ip=%s: only the loopback", a.cfg.IP)
		return nil
	}
	if a.plan.Ignored != "" {
		a.con.Warnf("%s is ignored: b2c.iface takes priority", a.plan.Ignored)
	}
	lease, attempts, err := network.Apply(ctx, a.plan, 20*time.Second)
	a.lease, a.networkErr = lease, err
	switch {
	case err != nil:
		a.con.Logf("Network: %v", err)
		for _, at := range attempts {
			a.con.Logf("  %s", at)
		}
	case lease != nil:
		a.con.Logf("Network: %s", lease)
	}
	return nil
}

func (a *agent) connected(context.Context) error {
	if a.networkErr != nil {
		return errors.New("Could not connect to the network, shutting down!")
	}
	return nil
}

// setClock sets the time with NTP. A clock that stays wrong is a warning:
// only TLS suffers, and it says so.
func (a *agent) setClock(ctx context.Context) error {
	if a.cfg.NTPPeer == "none" || a.plan.Off {
		return nil
	}
	var offered []net.IP
	if a.lease != nil {
		offered = a.lease.NTP
	}
	peer := clock.Peer(a.cfg.NTPPeer, offered)
	off, err := clock.Query(ctx, peer, 3, 2*time.Second)
	if err == nil {
		err = clock.Adjust(off)
	}
	if err != nil {
		return fmt.Errorf("could not set the time from %s: %v", peer, err)
	}
	a.con.Logf("Clock set from %s (offset %s)", peer, off.Round(time.Millisecond))
	return nil
}

// extraOptions fetches b2c.extra_args_url and adds its options to the
// configuration. Its invalid options fail the run, as the kernel's do.
func (a *agent) extraOptions(ctx context.Context) error {
	if a.cfg.ExtraArgsURL == "" {
		return nil
	}
	text, err := fetch.Text(ctx, fetch.Client(a.cfg.Proxy, 30*time.Second), a.cfg.ExtraArgsURL)
	if err != nil {
		return err
	}
	before := len(a.parsed.Diagnostics)
	a.parsed.Add(text)
	a.redactSecrets() // the keys the extra options brought
	// podman's service starts after this step (storageFirst): it reads
	// the proxy of the extra options from its environment.
	return a.report(a.parsed.Diagnostics[before:])
}

// setKeymap loads b2c.keymap. A missing keymap is a warning: the console
// still works, in the kernel's default layout.
func (a *agent) setKeymap(ctx context.Context) error {
	if a.cfg.Keymap == "" {
		return nil
	}
	if err := keymap.Load(ctx, keymap.Dir, a.cfg.Keymap, a.rp.RunCmd, a.con.Writer()); err != nil {
		return err
	}
	a.con.Logf("Keymap %s loaded", a.cfg.Keymap)
	return nil
}

// setHostname names the machine, for the kernel and for containers that
// read /etc/hostname.
func (a *agent) setHostname(context.Context) error {
	name := network.Hostname(a.cfg, a.lease)
	if err := unix.Sethostname([]byte(name)); err != nil {
		return fmt.Errorf("set the hostname to %s: %v", name, err)
	}
	if err := os.WriteFile("/etc/hostname", []byte(name+"\n"), 0o644); err != nil {
		a.con.Warnf("%v", err)
	}
	a.con.Logf("Hostname: %s", name)
	return nil
}

// setPanicTimeout makes a kernel that panics reboot after 10 s instead of
// hanging forever, unless the command line's panic= says what to do: a
// lab's machine that hangs needs a person, one that reboots does not.
func setPanicTimeout(kernelCmdline string) {
	for _, f := range strings.Fields(kernelCmdline) {
		if strings.HasPrefix(f, "panic=") {
			return
		}
	}
	os.WriteFile("/proc/sys/kernel/panic", []byte("10\n"), 0)
}
