package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
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

// resolvConf is where the name servers go.
const resolvConf = "/etc/resolv.conf"

// linkWait bounds the wait for an interface named on the command line,
// whose driver may still be probing.
const linkWait = 10 * time.Second

// Apply carries out a plan: the static interfaces, then DHCP within
// timeout. It returns the configuration to report (the DHCP lease, else
// the first static interface; nil with ip=off) and, when DHCP got no
// lease, what was tried on each interface.
func Apply(ctx context.Context, p Plan, timeout time.Duration) (*Lease, []Attempt, error) {
	if p.Off {
		return nil, nil, nil
	}
	var first *Lease
	var dns []net.IP
	for _, st := range p.Static {
		l, err := configureStatic(ctx, st)
		if err != nil {
			return nil, nil, err
		}
		dns = append(dns, st.DNS...)
		if first == nil {
			first = l
		}
	}
	if len(p.Static) > 0 {
		if err := os.WriteFile(resolvConf, []byte(ResolvConf(dns, nil)), 0o644); err != nil {
			return nil, nil, fmt.Errorf("write %s: %w", resolvConf, err)
		}
	}
	if !p.DHCP {
		return first, nil, nil
	}
	return DHCP(ctx, p.DHCPOn, timeout)
}

// configureStatic brings one interface up with its address, gateway,
// routes and forwarding.
func configureStatic(ctx context.Context, st Static) (*Lease, error) {
	name := st.Iface
	if name == "" {
		ifs, err := wired()
		if err != nil {
			return nil, err
		}
		if len(ifs) == 0 {
			return nil, errors.New("no wired network interface (eth*, en*)")
		}
		name = ifs[0].Attrs().Name
	}
	link, err := waitLink(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := netlink.LinkSetUp(link); err != nil {
		return nil, fmt.Errorf("set %s up: %w", name, err)
	}
	if st.Addr != nil {
		if err := netlink.AddrReplace(link, &netlink.Addr{IPNet: st.Addr}); err != nil {
			return nil, fmt.Errorf("address %s on %s: %w", st.Addr, name, err)
		}
	}
	if st.Gateway != nil {
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Gw: st.Gateway}
		if err := netlink.RouteReplace(r); err != nil {
			return nil, fmt.Errorf("default route via %s on %s: %w", st.Gateway, name, err)
		}
	}
	for _, rt := range st.Routes {
		r := &netlink.Route{LinkIndex: link.Attrs().Index, Dst: rt.Net, Gw: rt.Via}
		if err := netlink.RouteReplace(r); err != nil {
			return nil, fmt.Errorf("route %s via %s on %s: %w", rt.Net, rt.Via, name, err)
		}
	}
	if st.Forward {
		f := "/proc/sys/net/ipv4/conf/" + name + "/forwarding"
		if err := os.WriteFile(f, []byte("1\n"), 0o644); err != nil {
			return nil, fmt.Errorf("forwarding on %s: %w", name, err)
		}
	}
	return &Lease{Iface: name, Addr: st.Addr, Gateway: st.Gateway, DNS: st.DNS, NTP: st.NTP,
		Hostname: st.Hostname, Static: true}, nil
}

// waitLink finds an interface by name, waiting a bounded time for it to
// appear.
func waitLink(ctx context.Context, name string) (netlink.Link, error) {
	deadline := time.Now().Add(linkWait)
	for {
		l, err := netlink.LinkByName(name)
		if err == nil {
			return l, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("interface %s: %w (after %s)", name, err, linkWait)
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("interface %s: %w", name, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// wired lists the wired interfaces, by name.
func wired() ([]netlink.Link, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, fmt.Errorf("list interfaces: %w", err)
	}
	var ifs []netlink.Link
	for _, l := range links {
		if Wired.MatchString(l.Attrs().Name) {
			ifs = append(ifs, l)
		}
	}
	sort.Slice(ifs, func(i, j int) bool { return ifs[i].Attrs().Name < ifs[j].Attrs().Name })
	return ifs, nil
}

// DHCP asks for a lease on the named interfaces (every wired one when
// names is empty) at once and configures the first one that comes with a
// default route (or, failing that, the first one at all), within timeout.
// It returns what was tried on each interface, for diagnostics.
func DHCP(ctx context.Context, names []string, timeout time.Duration) (*Lease, []Attempt, error) {
	var ifs []netlink.Link
	if len(names) == 0 {
		var err error
		if ifs, err = wired(); err != nil {
			return nil, nil, err
		}
	}
	for _, n := range names {
		l, err := waitLink(ctx, n)
		if err != nil {
			return nil, nil, err
		}
		ifs = append(ifs, l)
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
			dhcpv4.WithRequestedOptions(dhcpv4.OptionNTPServers, dhcpv4.OptionHostName,
				dhcpv4.OptionDomainName, dhcpv4.OptionDNSDomainSearchList),
		},
	}
	attempts := map[string]*Attempt{}
	for _, l := range ifs {
		attempts[l.Attrs().Name] = &Attempt{Iface: l.Attrs().Name, Err: errors.New("no answer")}
	}
	var fallback *dhclient.Packet4
	for res := range dhclient.SendRequests(ctx, ifs, true, false, cfg, timeout/2) {
		a := attempts[res.Interface.Attrs().Name]
		a.Err = dhcpError(res.Err, timeout)
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
	_, search, domain := p.GatherDNSSettings()
	if len(search) == 0 && domain != "" {
		search = []string{domain}
	}
	l.Search = search
	if r := p.P.Router(); len(r) > 0 {
		l.Gateway = r[0]
	}
	return l, nil, nil
}
