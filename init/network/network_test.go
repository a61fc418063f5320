package network

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestPlanFor(t *testing.T) {
	ip := func(s string) net.IP { return net.ParseIP(s).To4() }
	cidr := func(s string) *net.IPNet {
		a, n, err := net.ParseCIDR(s)
		if err != nil {
			t.Fatal(err)
		}
		n.IP = a.To4()
		return n
	}
	static := cmdline.Iface{Name: "eth1", Address: cidr("10.9.0.5/24"), Gateway: ip("10.9.0.1"),
		Nameservers: []net.IP{ip("10.9.0.1")}, Routes: []cmdline.Route{{Net: cidr("10.10.0.0/16"), Via: ip("10.9.0.254")}}, Forward: true}
	tests := []struct {
		name   string
		ifaces []cmdline.Iface
		ip     string
		want   Plan
	}{
		{name: "nothing: DHCP everywhere", want: Plan{Source: "DHCP", DHCP: true}},
		{name: "ip=dhcp", ip: "dhcp", want: Plan{Source: "ip=", DHCP: true}},
		{name: "ip=off", ip: "off", want: Plan{Source: "ip=", Off: true}},
		{name: "ip= DHCP on one device", ip: ":::::eth1:dhcp", want: Plan{Source: "ip=", DHCP: true, DHCPOn: []string{"eth1"}}},
		{name: "ip= static", ip: "10.0.2.15::10.0.2.2:255.255.255.0:dut:eth0:off:10.0.2.3::10.0.2.2",
			want: Plan{Source: "ip=", Static: []Static{{Iface: "eth0", Addr: cidr("10.0.2.15/24"), Gateway: ip("10.0.2.2"),
				DNS: []net.IP{ip("10.0.2.3")}, Hostname: "dut", NTP: []net.IP{ip("10.0.2.2")}}}}},
		{name: "ip= static without a device", ip: "192.168.7.2",
			want: Plan{Source: "ip=", Static: []Static{{Addr: cidr("192.168.7.2/24")}}}},
		{name: "b2c.iface static", ifaces: []cmdline.Iface{static},
			want: Plan{Source: "b2c.iface", Static: []Static{{Iface: "eth1", Addr: static.Address, Gateway: static.Gateway,
				DNS: static.Nameservers, Routes: static.Routes, Forward: true}}}},
		{name: "b2c.iface over ip=", ifaces: []cmdline.Iface{{Name: "eth0", DHCP: true}}, ip: "10.0.2.15",
			want: Plan{Source: "b2c.iface", DHCP: true, DHCPOn: []string{"eth0"}, Ignored: "ip=10.0.2.15"}},
		{name: "b2c.iface dhcp with a route", ifaces: []cmdline.Iface{{Name: "eth0", DHCP: true, Routes: static.Routes}},
			want: Plan{Source: "b2c.iface", DHCP: true, DHCPOn: []string{"eth0"}, Static: []Static{{Iface: "eth0", Routes: static.Routes}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := cmdline.Parse("")
			if tt.ip != "" {
				r = cmdline.Parse("ip=" + tt.ip)
			}
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			c := r.Config
			c.Ifaces = tt.ifaces
			if got := PlanFor(&c); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("PlanFor =\n%+v\nwant\n%+v", got, tt.want)
			}
		})
	}
}

func TestResolvConf(t *testing.T) {
	got := ResolvConf([]net.IP{net.ParseIP("10.0.0.1"), net.ParseIP("10.0.0.2")}, []string{"lab.example", "example"})
	want := "nameserver 10.0.0.1\nnameserver 10.0.0.2\nsearch lab.example example\n"
	if got != want {
		t.Errorf("ResolvConf = %q, want %q", got, want)
	}
}

func TestLeaseString(t *testing.T) {
	_, n, _ := net.ParseCIDR("10.0.2.15/24")
	n.IP = net.ParseIP("10.0.2.15")
	l := &Lease{Iface: "eth0", Addr: n, Gateway: net.ParseIP("10.0.2.2"), DNS: []net.IP{net.ParseIP("10.0.2.3")}}
	// Labs match this prefix: fields are only ever added at the end.
	if got, want := l.String(), "eth0: address 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
}

func TestDHCPError(t *testing.T) {
	other := errors.New("socket: permission denied")
	for _, tt := range []struct {
		err  error
		want string
	}{
		{fmt.Errorf("unable to receive an offer: %w", fmt.Errorf("got an error while the discovery request: %w", context.DeadlineExceeded)), "no DHCP offer within 20s"},
		{other, other.Error()},
	} {
		if got := dhcpError(tt.err, 20*time.Second).Error(); got != tt.want {
			t.Errorf("dhcpError(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestHostname(t *testing.T) {
	def := cmdline.Defaults()
	set := cmdline.Defaults()
	set.Hostname, set.HostnameSet = "dut1", true
	for _, tt := range []struct {
		name  string
		cfg   cmdline.Config
		lease *Lease
		want  string
	}{
		{"no network: the default", def, nil, "boot2container"},
		{"a lease without a name", def, &Lease{}, "boot2container"},
		{"the lease's name", def, &Lease{Hostname: "lab-42"}, "lab-42"},
		{"b2c.hostname wins over the lease", set, &Lease{Hostname: "lab-42"}, "dut1"},
		{"b2c.hostname without a network", set, nil, "dut1"},
	} {
		if got := Hostname(&tt.cfg, tt.lease); got != tt.want {
			t.Errorf("%s: Hostname(%q set=%v, %+v) = %q, want %q", tt.name, tt.cfg.Hostname, tt.cfg.HostnameSet, tt.lease, got, tt.want)
		}
	}
}
