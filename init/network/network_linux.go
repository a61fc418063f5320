package network

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/u-root/u-root/pkg/dhclient"
	"github.com/vishvananda/netlink"
)

// Loopback brings lo up: service containers are reached over localhost.
func Loopback() error {
	lo, err := netlink.LinkByName("lo")
	if err != nil {
		return fmt.Errorf("find lo: %w", err)
	}
	if err := netlink.LinkSetUp(lo); err != nil {
		return fmt.Errorf("set lo up: %w", err)
	}
	return nil
}

// DHCP asks for a lease on every wired interface at once and configures
// the first one that comes with a default route (or, failing that, the
// first one at all), within timeout. It returns what was tried on each
// interface, for diagnostics.
func DHCP(ctx context.Context, timeout time.Duration) (*Lease, []Attempt, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, nil, fmt.Errorf("list interfaces: %w", err)
	}
	var ifs []netlink.Link
	for _, l := range links {
		if Wired.MatchString(l.Attrs().Name) {
			ifs = append(ifs, l)
		}
	}
	if len(ifs) == 0 {
		return nil, nil, errors.New("no wired network interface (eth*, en*)")
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cfg := dhclient.Config{
		Timeout: timeout / 4,
		Retries: 3,
		Modifiers4: []dhcpv4.Modifier{
			dhcpv4.WithRequestedOptions(dhcpv4.OptionNTPServers, dhcpv4.OptionHostName),
		},
	}
	attempts := map[string]*Attempt{}
	for _, l := range ifs {
		attempts[l.Attrs().Name] = &Attempt{Iface: l.Attrs().Name, Err: errors.New("no answer")}
	}
	var fallback *dhclient.Packet4
	for res := range dhclient.SendRequests(ctx, ifs, true, false, cfg, timeout/2) {
		a := attempts[res.Interface.Attrs().Name]
		a.Err = res.Err
		if res.Err != nil {
			continue
		}
		p, ok := res.Lease.(*dhclient.Packet4)
		if !ok {
			continue
		}
		if len(p.P.Router()) == 0 {
			if fallback == nil {
				fallback = p
			}
			continue
		}
		cancel()
		return configure(p)
	}
	if fallback != nil {
		return configure(fallback)
	}
	var list []Attempt
	for _, l := range ifs {
		a := attempts[l.Attrs().Name]
		if cur, err := netlink.LinkByName(a.Iface); err == nil {
			a.Link = cur.Attrs().OperState.String()
		}
		list = append(list, *a)
	}
	return nil, list, errors.New("no DHCP lease on any interface")
}

func configure(p *dhclient.Packet4) (*Lease, []Attempt, error) {
	name := p.Link().Attrs().Name
	if err := p.Configure(); err != nil {
		return nil, nil, fmt.Errorf("configure %s: %w", name, err)
	}
	l := &Lease{Iface: name, Addr: p.Lease(), DNS: p.P.DNS(), NTP: p.P.NTPServers(), Hostname: p.P.HostName()}
	if r := p.P.Router(); len(r) > 0 {
		l.Gateway = r[0]
	}
	return l, nil, nil
}
