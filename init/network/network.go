// Package network brings the machine onto the network: the loopback, then
// b2c.iface, else ip=, else DHCP on every wired interface at once, where
// the first lease with a default route wins (docs/cmdline.md, "Network").
package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"strings"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
)

// Static is the configuration of one interface that does not ask DHCP.
type Static struct {
	Iface    string // "": the first wired interface
	Addr     *net.IPNet
	Gateway  net.IP
	DNS      []net.IP
	Routes   []cmdline.Route
	Forward  bool
	Hostname string
	NTP      []net.IP
}

// Plan is what the network step does.
type Plan struct {
	Source  string   // what decided it: "b2c.iface", "ip=" or "DHCP"
	Off     bool     // ip=off: only the loopback
	Static  []Static // configured first
	DHCP    bool     // then DHCP, on DHCPOn or on every wired interface
	DHCPOn  []string
	Ignored string // a lower-priority source that was given, for a warning
}

// PlanFor decides the network configuration of c: b2c.iface takes
// priority over ip=, which takes priority over DHCP on every wired
// interface.
func PlanFor(c *cmdline.Config) Plan {
	if len(c.Ifaces) > 0 {
		p := Plan{Source: "b2c.iface"}
		if c.IP != "" {
			p.Ignored = "ip=" + c.IP
		}
		for _, f := range c.Ifaces {
			if f.DHCP {
				p.DHCP = true
				p.DHCPOn = append(p.DHCPOn, f.Name)
				if f.Address == nil && len(f.Routes) == 0 && !f.Forward {
					continue
				}
			}
			p.Static = append(p.Static, Static{Iface: f.Name, Addr: f.Address, Gateway: f.Gateway,
				DNS: f.Nameservers, Routes: f.Routes, Forward: f.Forward})
		}
		return p
	}
	if c.IP != "" {
		k := c.KernelIP
		p := Plan{Source: "ip="}
		switch {
		case k.Off:
			p.Off = true
		case k.DHCP:
			p.DHCP = true
			if k.Device != "" {
				p.DHCPOn = []string{k.Device}
			}
		default:
			p.Static = []Static{{Iface: k.Device, Addr: &net.IPNet{IP: k.Client, Mask: k.Netmask},
				Gateway: k.Gateway, DNS: k.DNS, Hostname: k.Hostname, NTP: k.NTP}}
		}
		return p
	}
	return Plan{Source: "DHCP", DHCP: true}
}

// ResolvConf is /etc/resolv.conf for these name servers and search
// domains.
func ResolvConf(dns []net.IP, search []string) string {
	var b strings.Builder
	for _, ip := range dns {
		fmt.Fprintf(&b, "nameserver %s\n", ip)
	}
	if len(search) > 0 {
		fmt.Fprintf(&b, "search %s\n", strings.Join(search, " "))
	}
	return b.String()
}

// Wired matches the interface names DHCP is tried on.
var Wired = regexp.MustCompile(`^(eth|en)`)

// Lease is the configuration the network step applied.
type Lease struct {
	Iface    string
	Addr     *net.IPNet
	Gateway  net.IP
	DNS      []net.IP
	NTP      []net.IP // DHCP option 42
	Hostname string
	Search   []string // DHCP options 119 and 15
	Static   bool     // configured from the command line, not DHCP
}

// Hostname returns the machine's name: b2c.hostname when the command line
// gave it, else the one the lease brought (DHCP option 12, or ip='s), else
// b2c's default. l is nil without a network.
func Hostname(c *cmdline.Config, l *Lease) string {
	if l != nil && l.Hostname != "" && !c.HostnameSet {
		return l.Hostname
	}
	return c.Hostname
}

func (l *Lease) String() string {
	s := fmt.Sprintf("%s: address %s", l.Iface, l.Addr)
	if l.Gateway != nil {
		s += fmt.Sprintf(", gateway %s", l.Gateway)
	}
	if len(l.DNS) > 0 {
		s += fmt.Sprintf(", DNS %s", joinIPs(l.DNS))
	}
	if len(l.Search) > 0 {
		s += fmt.Sprintf(", search %s", strings.Join(l.Search, " "))
	}
	if len(l.NTP) > 0 {
		s += fmt.Sprintf(", NTP %s", joinIPs(l.NTP))
	}
	if l.Hostname != "" {
		s += fmt.Sprintf(", hostname %s", l.Hostname)
	}
	if l.Static {
		s += " (static)"
	}
	return s
}

func joinIPs(ips []net.IP) string {
	var s []string
	for _, ip := range ips {
		s = append(s, ip.String())
	}
	return strings.Join(s, " ")
}

// Attempt is what happened on one interface, for the diagnostics printed
// when no lease came.
type Attempt struct {
	Iface string
	Link  string // the link state
	Err   error
}

// dhcpError says in plain words what the DHCP client's wrapped errors
// mean: a deadline is a port where nobody answered in time.
func dhcpError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("no DHCP offer within %v", timeout)
	}
	return err
}

func (a Attempt) String() string {
	if a.Err != nil {
		return fmt.Sprintf("%s (link %s): %v", a.Iface, a.Link, a.Err)
	}
	return fmt.Sprintf("%s (link %s): lease", a.Iface, a.Link)
}
