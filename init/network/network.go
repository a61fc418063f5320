// Package network brings the machine onto the network: the loopback, then
// DHCP on every wired interface at once, where the first lease with a
// default route wins (shared/spec/cmdline.md §5).
package network

import (
	"fmt"
	"net"
	"regexp"
	"strings"
)

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
}

func (l *Lease) String() string {
	s := fmt.Sprintf("%s: address %s", l.Iface, l.Addr)
	if l.Gateway != nil {
		s += fmt.Sprintf(", gateway %s", l.Gateway)
	}
	if len(l.DNS) > 0 {
		s += fmt.Sprintf(", DNS %s", joinIPs(l.DNS))
	}
	if len(l.NTP) > 0 {
		s += fmt.Sprintf(", NTP %s", joinIPs(l.NTP))
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

func (a Attempt) String() string {
	if a.Err != nil {
		return fmt.Sprintf("%s (link %s): %v", a.Iface, a.Link, a.Err)
	}
	return fmt.Sprintf("%s (link %s): lease", a.Iface, a.Link)
}
