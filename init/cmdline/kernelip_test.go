package cmdline

import (
	"net"
	"reflect"
	"testing"
)

func TestParseKernelIP(t *testing.T) {
	ip := func(s string) net.IP { return net.ParseIP(s).To4() }
	mask := func(s string) net.IPMask { return net.IPMask(ip(s)) }
	tests := []struct {
		in   string
		want KernelIP
		err  string
	}{
		{in: "off", want: KernelIP{Off: true}},
		{in: "none", want: KernelIP{Off: true}},
		{in: "dhcp", want: KernelIP{DHCP: true}},
		{in: "on", want: KernelIP{DHCP: true}},
		{in: "::::::dhcp", want: KernelIP{DHCP: true}},
		{in: ":::::eth1:dhcp", want: KernelIP{DHCP: true, Device: "eth1"}},
		{in: "", want: KernelIP{DHCP: true}},
		{in: ":::::eth1:off", want: KernelIP{Off: true, Device: "eth1"}},
		{in: "10.0.2.15::10.0.2.2:255.255.255.0:dut:eth0:off:10.0.2.3:10.0.2.4:10.0.2.5",
			want: KernelIP{Client: ip("10.0.2.15"), Gateway: ip("10.0.2.2"), Netmask: mask("255.255.255.0"),
				Hostname: "dut", Device: "eth0", DNS: []net.IP{ip("10.0.2.3"), ip("10.0.2.4")}, NTP: []net.IP{ip("10.0.2.5")}}},
		// The kernel derives the netmask from the address's class.
		{in: "10.1.2.3", want: KernelIP{Client: ip("10.1.2.3"), Netmask: mask("255.0.0.0")}},
		{in: "192.168.1.9:::::", want: KernelIP{Client: ip("192.168.1.9"), Netmask: mask("255.255.255.0")}},
		{in: "10.0.2.15::10.0.2.2:255.255.255.0:dut:eth0:dhcp", want: KernelIP{DHCP: true, Client: ip("10.0.2.15"),
			Gateway: ip("10.0.2.2"), Netmask: mask("255.255.255.0"), Hostname: "dut", Device: "eth0"}},
		{in: "10.0.2.300", err: `field client "10.0.2.300" is not an IPv4 address`},
		{in: "10.0.2.15::10.0.2.x", err: `field gateway "10.0.2.x" is not an IPv4 address`},
		{in: "10.0.2.15:::255.0.255.0", err: `field netmask "255.0.255.0" is not a netmask`},
		{in: "10.0.2.15::::bad_name", err: `field hostname "bad_name" is not a host name`},
		{in: "10.0.2.15:::::eth0/1", err: `field device "eth0/1" is not an interface name`},
		{in: "10.0.2.15::::::maybe", err: `field autoconf "maybe" is not off, none, on, any, dhcp, bootp, rarp or both`},
		{in: "10.0.2.15:::::::::10.0.2.1:x", err: "11 fields, at most 10"},
		{in: "10.0.2.15:::::::::fe80::1", err: "12 fields, at most 10"},
	}
	for _, tt := range tests {
		got, err := ParseKernelIP(tt.in)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err {
				t.Errorf("ParseKernelIP(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseKernelIP(%q): %v", tt.in, err)
			continue
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseKernelIP(%q) = %+v, want %+v", tt.in, got, tt.want)
		}
	}
}
