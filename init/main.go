// Command init is b2c's boot agent, PID 1 of the initramfs. It runs one
// container pipeline described on the kernel command line, prints the
// end-of-run lines, and powers the machine off or reboots it. It never
// exits and never panics: every failure becomes an ERROR line, a pipeline
// status and a normal end of the run.
package main

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"os/exec"
	"runtime/debug"
	"strings"
	"time"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/clock"
	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/fetch"
	"github.com/b2c-dev/b2c/init/keymap"
	"github.com/b2c-dev/b2c/init/mirror"
	"github.com/b2c-dev/b2c/init/modules"
	"github.com/b2c-dev/b2c/init/mounts"
	"github.com/b2c-dev/b2c/init/network"
	"github.com/b2c-dev/b2c/init/pipeline"
	"github.com/b2c-dev/b2c/init/podman"
	"github.com/b2c-dev/b2c/init/power"
	"github.com/b2c-dev/b2c/init/reaper"
	"github.com/b2c-dev/b2c/init/sysinfo"
	"github.com/b2c-dev/b2c/init/volumes"
)

const podmanSocket = "unix:///run/podman/podman.sock"

func main() {
	if os.Getpid() != 1 {
		fmt.Fprintln(os.Stderr, "b2c init: not PID 1; this is the initramfs' init, not a command to run")
		os.Exit(2)
	}
	a := &agent{
		// Until the consoles are open, write to the kernel's console.
		con: console.New(os.Stdout, console.Uptime, time.Now),
		rp:  reaper.New(),
		cfg: &cmdline.Config{},
	}
	go a.rp.Run(context.Background())
	a.boot(context.Background())
	a.end()
}

// agent is the state of the run that the boot and its end share.
type agent struct {
	con    *console.Console
	rp     *reaper.Reaper
	cfg    *cmdline.Config
	status pipeline.Status

	storage *volumes.Storage
	podman  *podmanService
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

	mountWarnings, mountErr := mounts.Apply(mounts.Table("/", "80%"))
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		a.con.Errorf("read /proc/cmdline: %v", err)
	}
	parsed := cmdline.Parse(string(raw))
	a.cfg = &parsed.Config
	cfg := a.cfg
	if w, in, err := console.Open("/dev", cfg.Consoles); err == nil {
		a.con = console.New(w, console.Uptime, time.Now)
		os.Stdin = in
	} else {
		a.con.Warnf("%v", err)
	}
	for _, s := range cfg.Secrets() {
		a.con.Redact(s)
	}
	con := a.con
	status := &a.status
	// u-root's DHCP client logs whole packets; the network step prints
	// its own summary and diagnostics instead.
	log.SetOutput(io.Discard)
	// podman's bindings log warnings: keep them in the console's format.
	logrus.SetOutput(lineWriter(con.Logf))
	logrus.SetLevel(logrus.WarnLevel)

	con.SectionStart("b2c_setup", "Setting up the machine", true)
	for _, w := range mountWarnings {
		con.Warnf("%v", w)
	}
	if mountErr != nil {
		con.Errorf("%v", mountErr)
	}
	con.SectionStart("runtime_info", "Runtime information", true)
	// Our kernel keeps its own echo of the command line off the console,
	// where it would show the keys; this one goes through the redaction.
	con.Logf("Kernel command line: %s", strings.TrimSpace(string(raw)))
	for _, l := range sysinfo.Read("/").Lines() {
		con.Logf("%s", l)
	}
	con.SectionEnd("runtime_info")

	for _, d := range parsed.Diagnostics {
		if d.Error {
			con.Errorf("%s: %s", d.Token, d.Message)
		} else {
			con.Warnf("%s: %s", d.Token, d.Message)
		}
	}
	if parsed.Err() != nil {
		status.Fail("cmdline")
	}
	if mountErr != nil {
		status.Fail("mounts")
	}

	if len(cfg.Insmods) > 0 {
		con.Section("load_modules", "Loading the kernel modules", func() error {
			// A module that does not load is a warning: the machine may
			// well run without it, and the lab sees which one failed.
			for _, err := range modules.System().Load(cfg.Insmods) {
				con.Warnf("%v", err)
			}
			return nil
		})
	}

	con.Section("mount_cache_partition", "Mounting the cache partition", func() error {
		a.storage = volumes.New(con, cfg, a.rp.RunCmd)
		if err := a.storage.Mount(ctx); err != nil {
			status.Fail("mount_cache_partition")
			con.Errorf("%v", err)
		}
		return nil
	})

	// podman's service starts in parallel with the network: its socket
	// takes most of a second to come up.
	serviceErr := a.startPodman()

	if err := network.Loopback(); err != nil {
		con.Warnf("%v", err)
	}
	var lease *network.Lease
	plan := network.PlanFor(cfg)
	if status.Code == 0 && !plan.Off {
		con.SectionStart("connect", "Connecting to the network", true)
		if plan.Ignored != "" {
			con.Warnf("%s is ignored: b2c.iface takes priority", plan.Ignored)
		}
		var attempts []network.Attempt
		lease, attempts, err = network.Apply(ctx, plan, 20*time.Second)
		switch {
		case err != nil:
			con.Logf("Network: %v", err)
			for _, a := range attempts {
				con.Logf("  %s", a)
			}
		case lease != nil:
			con.Logf("Network: %s", lease)
		}
		con.SectionEnd("connect")
		if err != nil {
			con.Errorf("Could not connect to the network, shutting down!")
			status.Fail("connect")
		}
	} else if plan.Off {
		con.Logf("Network: ip=%s: only the loopback", cfg.IP)
	}

	if status.Code == 0 && cfg.NTPPeer != "none" && !plan.Off {
		con.Section("ntp_set", "Setting the time with NTP", func() error {
			peer := cfg.NTPPeer
			if peer == "auto" {
				peer = "pool.ntp.org"
				if lease != nil && len(lease.NTP) > 0 {
					peer = lease.NTP[0].String()
				}
			}
			off, err := clock.Query(ctx, peer, 3, 2*time.Second)
			if err == nil {
				err = clock.Adjust(off)
			}
			if err != nil {
				con.Warnf("could not set the time from %s: %v", peer, err)
			} else {
				con.Logf("Clock set from %s (offset %s)", peer, off.Round(time.Millisecond))
			}
			return nil
		})
	}

	if status.Code == 0 && cfg.ExtraArgsURL != "" {
		con.Section("parse_extra_cmdline", "Fetching more options from "+cfg.ExtraArgsURL, func() error {
			text, err := fetch.Text(ctx, fetch.Client(cfg.Proxy, 30*time.Second), cfg.ExtraArgsURL)
			if err != nil {
				con.Errorf("%v", err)
				status.Fail("parse_extra_cmdline")
				return nil
			}
			before, proxy := len(parsed.Diagnostics), strings.Join(cfg.Proxy.Env(), " ")
			parsed.Add(text)
			for _, s := range cfg.Secrets() {
				con.Redact(s) // the keys the extra options brought
			}
			if strings.Join(cfg.Proxy.Env(), " ") != proxy && serviceErr == nil {
				// podman's service read the proxy from its environment
				// when it started: restart it with the new one.
				a.stopPodman(5 * time.Second)
				os.Remove(strings.TrimPrefix(podmanSocket, "unix://"))
				serviceErr = a.startPodman()
				con.Logf("Restarted podman's service for the proxy of the extra options")
			}
			for _, d := range parsed.Diagnostics[before:] {
				if d.Error {
					con.Errorf("%s: %s", d.Token, d.Message)
					status.Fail("parse_extra_cmdline")
				} else {
					con.Warnf("%s: %s", d.Token, d.Message)
				}
			}
			return nil
		})
	}

	if cfg.Keymap != "" {
		con.Section("set_keymap", "Setting the keymap "+cfg.Keymap, func() error {
			// A missing keymap is a warning: the console still works, in
			// the kernel's default layout.
			path, err := keymap.Find(keymap.Dir, cfg.Keymap)
			if err == nil {
				cmd := exec.Command("/usr/bin/loadkeys", "-q", "-C", "/dev/tty0", path)
				cmd.Stdout, cmd.Stderr = con.Writer(), con.Writer()
				var code int
				if code, err = a.rp.RunCmd(ctx, cmd); err == nil && code != 0 {
					err = fmt.Errorf("loadkeys %s: exit %d", path, code)
				}
			}
			if err != nil {
				con.Warnf("%v", err)
			} else {
				con.Logf("Keymap %s loaded", cfg.Keymap)
			}
			return nil
		})
	}

	con.Section("set_hostname", "Setting the hostname", func() error {
		name := cfg.Hostname
		if lease != nil && lease.Hostname != "" && !cfg.HostnameSet {
			name = lease.Hostname
		}
		a.setHostname(name)
		return nil
	})
	con.SectionEnd("b2c_setup")

	if status.Code != 0 {
		return
	}
	if serviceErr != nil {
		con.Errorf("could not start podman: %v", serviceErr)
		status.Fail("podman")
		return
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	engine, err := podman.Connect(cctx, podmanSocket, con, os.Stdin, con.Writer())
	cancel()
	if err != nil {
		con.Errorf("%v; podman said: %s", err, tail("/run/podman.log", 10))
		status.Fail("podman")
		return
	}
	engine.Storage = a.storage.GraphRoot()
	if err := a.storage.Setup(ctx, engine); err != nil {
		con.Errorf("%v", err)
		status.Fail("volumes")
	} else if status.Code == 0 && a.storage.At(ctx, mirror.PipelineStart) != nil {
		// Without its inputs the pipeline does not run, and nothing is
		// pushed back: a partial volume must not replace a bucket.
		status.Fail("volumes")
	} else {
		a.storage.Watch(ctx)
		a.status = pipeline.Run(ctx, cfg, a.storage.Engine(engine), con, a.status)
		a.storage.StopWatching()
		if a.storage.At(ctx, mirror.PipelineEnd) != nil {
			status.Fail("volume_push")
		}
	}

	con.Section("cleanup", "Cleaning up", func() error {
		if removed, err := engine.RemoveExpired(ctx); err != nil {
			con.Warnf("%v", err)
		} else if len(removed) > 0 {
			con.Logf("Removed the volumes that expire with the pipeline: %s", strings.Join(removed, ", "))
		}
		if a.storage.Cached() {
			if err := engine.PruneContainers(ctx); err != nil {
				con.Warnf("%v", err)
			}
		}
		unix.Sync()
		return nil
	})
}

// setHostname names the machine, for the kernel and for containers that
// read /etc/hostname.
func (a *agent) setHostname(name string) {
	if err := unix.Sethostname([]byte(name)); err != nil {
		a.con.Warnf("set the hostname to %s: %v", name, err)
		return
	}
	if err := os.WriteFile("/etc/hostname", []byte(name+"\n"), 0o644); err != nil {
		a.con.Warnf("%v", err)
	}
	a.con.Logf("Hostname: %s", name)
}

// podmanService is the running `podman system service`.
type podmanService struct {
	pid  int
	done <-chan unix.WaitStatus
}

// startPodman starts `podman system service` with its log in a file.
func (a *agent) startPodman() error {
	rp, cfg := a.rp, a.cfg
	if err := os.MkdirAll("/run/podman", 0o700); err != nil {
		return err
	}
	logf, err := os.Create("/run/podman.log")
	if err != nil {
		return err
	}
	cmd := exec.Command("/usr/bin/podman", "system", "service", "--time=0", podmanSocket)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append([]string{"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root"}, cfg.Proxy.Env()...)
	cmd.SysProcAttr = &unix.SysProcAttr{Setpgid: true}
	done, err := rp.Start(cmd)
	if err == nil {
		a.podman = &podmanService{pid: cmd.Process.Pid, done: done}
	}
	return err
}

// stopPodman stops podman's service and its children, which keep files
// open on the cache: gently, then by force after grace.
func (a *agent) stopPodman(grace time.Duration) {
	if a.podman == nil {
		return
	}
	unix.Kill(-a.podman.pid, unix.SIGTERM)
	select {
	case <-a.podman.done:
	case <-time.After(grace):
		unix.Kill(-a.podman.pid, unix.SIGKILL)
		select {
		case <-a.podman.done:
		case <-time.After(grace):
		}
	}
	a.podman = nil
}

func tail(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// end prints the end-of-run lines and powers off or reboots, whatever
// happened before. It never returns.
func (a *agent) end() {
	con, cfg, status := a.con, a.cfg, a.status
	reboot := status.Reboot
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
		// podman's service keeps files open on the cache.
		a.stopPodman(5 * time.Second)
		if a.storage != nil { // nil: the boot crashed before the storage step
			a.storage.Unmount()
		}
		return nil
	})
	con.End(status.Code, reboot)
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
		cmd.Stdout, cmd.Stderr = con.Writer(), con.Writer()
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
