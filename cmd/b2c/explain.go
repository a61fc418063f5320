package main

import (
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/network"
	"github.com/b2c-dev/b2c/init/podmanargs"
)

const explainUsage = `usage: b2c explain [CMDLINE | -f FILE | -]

Prints what the agent will do with a kernel command line, in the order it
does it: the problems b2c lint finds, the network (b2c.iface, ip= or
DHCP: addresses, gateways, routes, name servers), the clock, the proxy,
the file systems and what uses them, the cache, the swap, the S3 aliases,
each volume (where its files live, when it pulls and pushes, or that it
never does, and what overwrite and remove do), each container with its
final podman arguments, and the end of the run. Keys and passwords are
shown as *****.

The command line is the arguments, joined by spaces; or the file of -f;
or stdin (- or no argument).

Exit status: 0, whatever the command line holds (b2c lint fails on
errors); 2 usage.
`

// explain prints the plan the agent will follow for a command line.
func explain(args []string, stdin io.Reader, stdout io.Writer) error {
	if wantsHelp(args) {
		fmt.Fprint(stdout, explainUsage)
		return nil
	}
	text, err := readCmdline(args, stdin)
	if err != nil {
		return err
	}
	r := cmdline.Parse(text)
	c := &r.Config
	e := explainer{w: maskWriter{stdout, r.Secrets()}, c: c}
	failed := false
	for _, d := range diagnostics(r) {
		e.line("%s", d)
		failed = failed || d.Error
	}
	if failed {
		e.line("No container will run: the command line has errors; the pipeline status will be 1.")
	}
	e.network()
	e.system()
	e.storage()
	e.volumes()
	e.containers()
	e.end()
	return nil
}

// explainer writes the plan of one configuration.
type explainer struct {
	w io.Writer
	c *cmdline.Config
}

func (e explainer) line(format string, args ...any) {
	fmt.Fprintf(e.w, format+"\n", args...)
}

// maskWriter replaces the keys and passwords of the command line with
// *****, as the agent's console does, and the password of any URL: one
// in an option that did not parse is not among the Config's secrets.
type maskWriter struct {
	w       io.Writer
	secrets []string
}

var urlPasswordRE = regexp.MustCompile(`(://[^:/@\s"]+):[^@/\s"]+@`)

func (m maskWriter) Write(b []byte) (int, error) {
	s := string(b)
	for _, x := range m.secrets {
		s = strings.ReplaceAll(s, x, "*****")
	}
	s = urlPasswordRE.ReplaceAllString(s, "$1:*****@")
	if _, err := io.WriteString(m.w, s); err != nil {
		return 0, err
	}
	return len(b), nil
}

const everyWired = "DHCP on every wired interface (eth*, en*); the first lease with a default route wins"

// network shows the agent's own decision (network.PlanFor): b2c.iface,
// else ip=, else DHCP.
func (e explainer) network() {
	c := e.c
	p := network.PlanFor(c)
	switch p.Source {
	case "b2c.iface":
		var names []string
		for _, f := range c.Ifaces {
			names = append(names, f.Name)
		}
		e.line("Network: b2c.iface on %s", strings.Join(names, ", "))
	case "ip=":
		e.line("Network: ip=%s", c.IP)
	default:
		e.line("Network: %s", everyWired)
		return
	}
	if p.Off {
		e.line("  only the loopback: no network, no NTP")
	}
	for _, st := range p.Static {
		e.line("  %s", staticLine(st))
	}
	switch {
	case p.DHCP && len(p.DHCPOn) > 0:
		e.line("  DHCP on %s", strings.Join(p.DHCPOn, ", "))
	case p.DHCP:
		e.line("  %s", everyWired)
	}
	if p.Ignored != "" {
		e.line("  %s is ignored: b2c.iface takes priority (a WARNING)", p.Ignored)
	}
}

// staticLine describes the static configuration of one interface.
func staticLine(st network.Static) string {
	name := st.Iface
	if name == "" {
		name = "the first wired interface"
	}
	var parts []string
	if st.Addr != nil {
		parts = append(parts, "address "+st.Addr.String())
	} else {
		parts = append(parts, "no address")
	}
	if st.Gateway != nil {
		parts = append(parts, "gateway "+st.Gateway.String())
	}
	for _, r := range st.Routes {
		parts = append(parts, fmt.Sprintf("route %s via %s", r.Net, r.Via))
	}
	if len(st.DNS) > 0 {
		parts = append(parts, "name servers "+joinIPs(st.DNS))
	}
	if len(st.NTP) > 0 {
		parts = append(parts, "NTP "+joinIPs(st.NTP))
	}
	if st.Hostname != "" {
		parts = append(parts, "host name "+st.Hostname+" (unless b2c.hostname)")
	}
	if st.Forward {
		parts = append(parts, "IP forwarding on")
	}
	return name + ": " + strings.Join(parts, ", ")
}

func joinIPs(ips []net.IP) string {
	s := make([]string, len(ips))
	for i, ip := range ips {
		s[i] = ip.String()
	}
	return strings.Join(s, ", ")
}

// system shows the clock, the host name, the proxy and what the agent
// loads.
func (e explainer) system() {
	c := e.c
	clock := ""
	switch {
	case c.NTPPeer == "none":
		clock = " (the clock is left as it is)"
	case network.PlanFor(c).Off:
		clock = " (not asked: ip= turns the network off)"
	case c.NTPPeer == "auto":
		clock = " (the NTP server the network offers, else pool.ntp.org; a failure is a WARNING)"
	default:
		clock = " (a failure is a WARNING)"
	}
	e.line("Clock: NTP peer %s%s", c.NTPPeer, clock)
	e.line("Hostname: %s", c.Hostname)
	if p := c.Proxy; p.HTTPS != "" || p.HTTP != "" || len(p.No) > 0 {
		var parts []string
		if p.HTTPS != "" {
			parts = append(parts, "https "+p.HTTPS)
		}
		if p.HTTP != "" {
			parts = append(parts, "http "+p.HTTP)
		}
		if len(p.No) > 0 {
			parts = append(parts, "not for "+strings.Join(p.No, ", "))
		}
		e.line("Proxy: %s; for podman's pulls and the agent's downloads (containers see it only with -e)", strings.Join(parts, ", "))
	}
	if c.Keymap != "" {
		e.line("Keymap: %s (an unknown keymap is a WARNING)", c.Keymap)
	}
	if len(c.Insmods) > 0 {
		e.line("Modules: %s", strings.Join(c.Insmods, ", "))
	}
	if c.ExtraArgsURL != "" {
		e.line("Extra options from %s, after the network and the clock", c.ExtraArgsURL)
	}
}

func (e explainer) containers() {
	show := func(kind string, list []cmdline.Container) {
		for i, ct := range list {
			final, err := podmanargs.FinalArgs(ct.Args)
			if err != nil {
				e.line("%s %d: invalid: %v", kind, i+1, err)
				continue
			}
			e.line("%s %d: podman create %s", kind, i+1, quote(final))
		}
	}
	show("Service", e.c.RunService)
	show("Stage", e.c.Run)
	if e.c.Pipefail {
		e.line("Pipefail: the first failing stage aborts the remaining stages")
	}
	show("Post", e.c.RunPost)
}

func (e explainer) end() {
	c := e.c
	if c.Timeout > 0 {
		e.line("Timeout: %s, then every container is stopped and the status is 124", c.Timeout)
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
	e.line("Shutdown: %s (after a stage exits 129: %s)", end, reboot)
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
