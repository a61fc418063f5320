package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/podmanargs"
)

// explain prints the plan the agent will follow for a command line.
func explain(args []string, stdin io.Reader, stdout io.Writer) error {
	text, err := readCmdline(args, stdin)
	if err != nil {
		return err
	}
	r := cmdline.Parse(text)
	c := r.Config
	for _, d := range r.Diagnostics {
		fmt.Fprintln(stdout, d)
	}
	if r.Err() != nil {
		fmt.Fprintln(stdout, "No container will run: the command line has errors; the pipeline status will be 1.")
	}
	network := "DHCP on every wired interface (eth*, en*); the first lease with a default route wins"
	switch {
	case len(c.Ifaces) > 0:
		var names []string
		for _, f := range c.Ifaces {
			names = append(names, f.Name)
		}
		network = "b2c.iface on " + strings.Join(names, ", ")
	case c.IP != "":
		network = "ip=" + c.IP
	}
	fmt.Fprintf(stdout, "Network: %s\n", network)
	fmt.Fprintf(stdout, "Clock: NTP peer %s\n", c.NTPPeer)
	fmt.Fprintf(stdout, "Hostname: %s\n", c.Hostname)
	fmt.Fprintf(stdout, "Cache: %s\n", c.CacheDevice)
	switch {
	case c.Swap.Device != "":
		fmt.Fprintf(stdout, "Swap: %s\n", c.Swap.Device)
	case c.Swap.Size > 0:
		fmt.Fprintf(stdout, "Swap: a %d MiB file on the cache\n", c.Swap.Size>>20)
	}
	for _, v := range c.Volumes {
		mirror := ""
		if v.PullFrom != "" || v.PushTo != "" {
			mirror = fmt.Sprintf(", pulled from %q, pushed to %q", v.PullFrom, v.PushTo)
		}
		fmt.Fprintf(stdout, "Volume: %s (expiration %s%s)\n", v.Name, v.Expiration, mirror)
	}
	if c.ExtraArgsURL != "" {
		fmt.Fprintf(stdout, "Extra options from %s, after the network and the clock\n", c.ExtraArgsURL)
	}
	show := func(kind string, list []cmdline.Container) {
		for i, ct := range list {
			final, err := podmanargs.FinalArgs(ct.Args)
			if err != nil {
				fmt.Fprintf(stdout, "%s %d: invalid: %v\n", kind, i+1, err)
				continue
			}
			fmt.Fprintf(stdout, "%s %d: podman create %s\n", kind, i+1, quote(final))
		}
	}
	show("Service", c.RunService)
	show("Stage", c.Run)
	if c.Pipefail {
		fmt.Fprintln(stdout, "Pipefail: the first failing stage aborts the remaining stages")
	}
	show("Post", c.RunPost)
	if c.Timeout > 0 {
		fmt.Fprintf(stdout, "Timeout: %s, then every container is stopped and the status is 124\n", c.Timeout)
	}
	end := "power off"
	if c.ShutdownCmd != "" {
		end = "run `" + c.ShutdownCmd + "`"
	}
	if c.PoweroffDelay > 0 {
		end = fmt.Sprintf("wait %s, then %s", c.PoweroffDelay, end)
	}
	reboot := "reboot"
	if c.RebootCmd != "" {
		reboot = "run `" + c.RebootCmd + "`"
	}
	fmt.Fprintf(stdout, "Shutdown: %s (after a stage exits 129: %s)\n", end, reboot)
	return nil
}

// quote writes args so that a shell gives them back.
func quote(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$\\&;|<>()*?`") {
			a = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
		}
		q[i] = a
	}
	return strings.Join(q, " ")
}
