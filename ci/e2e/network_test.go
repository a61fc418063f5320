package e2e

import (
	"context"
	"net"
	"net/netip"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/ci/netlab"
	"github.com/b2c-dev/b2c/ci/registry"
	"github.com/b2c-dev/b2c/ci/tlsca"
	"github.com/b2c-dev/b2c/ci/vm"
)

// runImage is run with another name for the test image.
func runImage(image, flags, cmd string) string {
	if flags != "" {
		flags += " "
	}
	return `b2c.run="--tls-verify=false ` + flags + `docker://` + image + ` ` + cmd + `"`
}

// newLab creates lab network n and a NIC of the VM on it; the registry is
// reachable from the lab at the address it returns.
func newLab(t *testing.T, n int) (*netlab.Lab, vm.Option, string) {
	t.Helper()
	ctx := t.Context()
	lab, err := netlab.New(ctx, n, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lab.Close() })
	tap, err := lab.Tap(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fwd, err := lab.Forward(lab.Host.String()+":0", reg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	return lab, vm.QEMUArgs(netlab.QEMUNIC(tap, "lab0")...), fwd
}

// TestNetworkTwoNICs: only the second port has a DHCP server; its lease
// arrives as fast as on a machine with one port.
func TestNetworkTwoNICs(t *testing.T) {
	v := boot(t, "b2c.ntp_peer=none", run(`echo one-nic`))
	expect(t, v, `^one-nic$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("one NIC: status %d", got)
	}
	one := firstLine(t, v, `^one-nic$`)
	oneLease := firstLine(t, v, `: Network: `) - firstLine(t, v, `Run /init as init process`)

	// eth0 is on a hub of its own: link up, nobody answers.
	v = boot(t, vm.NoNIC(), vm.QEMUArgs(
		"-netdev", "hubport,id=dead,hubid=1", "-device", "virtio-net-pci,netdev=dead,romfile=",
		"-netdev", "user,id=live", "-device", "virtio-net-pci,netdev=live,romfile="),
		"b2c.ntp_peer=none", run(`echo two-nics`))
	expect(t, v, `: Network: eth1: address 10\.0\.2\.15/24, gateway 10\.0\.2\.2`)
	expect(t, v, `^two-nics$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("two NICs: status %d", got)
	}
	two := firstLine(t, v, `^two-nics$`)
	twoLease := firstLine(t, v, `: Network: `) - firstLine(t, v, `Run /init as init process`)
	// The first line also carries the pull, which the host's load makes
	// noisy; the lease time (from /init to the Network line) is DHCP alone.
	t.Logf("first container line: %.2f s with one NIC, %.2f s with two NICs, the first without DHCP (%.2fx); lease after /init: %.2f s and %.2f s (%.2fx)",
		one, two, two/one, oneLease, twoLease, twoLease/oneLease)
}

// TestNetworkStaticIP: ip= on a network without DHCP reaches the registry.
func TestNetworkStaticIP(t *testing.T) {
	lab, nic, registry := newLab(t, 1)
	v := boot(t, vm.NoNIC(), nic, "b2c.ntp_peer=none",
		"ip="+lab.Addr(10).String()+"::"+lab.Host.String()+":255.255.255.0:dut:eth0:off",
		runImage(registry+"/b2c/busybox:latest", "", `sh -c 'echo static-ok; hostname'`))
	expect(t, v, `: Network: eth0: address 10\.77\.1\.10/24, gateway 10\.77\.1\.1(, .*)? \(static\)$`)
	expect(t, v, `^static-ok$`)
	expect(t, v, `^dut$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("status %d", got)
	}
}

// TestNetworkIface: b2c.iface sets an address, a route and a name server
// that the container sees.
func TestNetworkIface(t *testing.T) {
	lab, nic, registry := newLab(t, 2)
	if err := lab.Dnsmasq(t.Context(), nil, map[string]netip.Addr{"registry.lab": lab.Host}); err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(registry)
	iface := "b2c.iface=eth0,address=" + lab.Addr(10).String() + "/24,gateway=" + lab.Host.String() +
		",nameserver=" + lab.Host.String() + ",route=10.200.0.0/16:" + lab.Addr(254).String()
	v := boot(t, vm.NoNIC(), nic, "b2c.ntp_peer=none", iface,
		runImage("registry.lab:"+port+"/b2c/busybox:latest", "", `sh -c 'ip route; nslookup registry.lab; echo iface-ok'`))
	expect(t, v, `^10\.200\.0\.0/16 via 10\.77\.2\.254 dev eth0`)
	expect(t, v, `^Address:?\s+10\.77\.2\.1$`)
	expect(t, v, `^iface-ok$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("status %d", got)
	}
	if log := lab.Log("dnsmasq"); !strings.Contains(log, "registry.lab") {
		t.Errorf("dnsmasq was never asked for registry.lab:\n%s", log)
	}
}

// TestNetworkInvalid: an invalid network value is one ERROR naming the
// field, then the end of the run.
func TestNetworkInvalid(t *testing.T) {
	for _, tt := range []struct{ arg, want string }{
		{"ip=10.0.2.15::10.0.2.300:255.255.255.0", `ERROR: .*ip=.*field gateway "10\.0\.2\.300" is not an IPv4 address`},
		{"b2c.iface=eth0,address=10.0.2.15,gateway=10.0.2.2", `ERROR: .*b2c\.iface.*address "10\.0\.2\.15" is not an address/prefix`},
	} {
		t.Run(tt.arg, func(t *testing.T) {
			v := boot(t, noNIC, tt.arg, run(`echo ran`))
			expect(t, v, tt.want)
			if got := status(t, v); got != 1 {
				t.Errorf("status %d, want 1", got)
			}
			if _, ok, _ := v.FirstLine(`^ran$`); ok {
				t.Errorf("the container ran despite the invalid %s", tt.arg)
			}
			n := 0
			for _, l := range v.Lines() {
				if strings.Contains(l.Text, "ERROR:") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d ERROR lines, want 1", n)
			}
		})
	}
}

// guestClock checks that the container's clock, printed as epoch=N, is
// within 2 s of this machine's when the line arrived.
func guestClock(t *testing.T, v *vm.VM, started time.Time) {
	t.Helper()
	l, ok, err := v.FirstLine(`^epoch=\d+$`)
	if err != nil || !ok {
		t.Fatalf("no epoch line: %v", err)
	}
	guest, _ := strconv.ParseInt(strings.TrimPrefix(l.Text, "epoch="), 10, 64)
	host := started.Add(l.At)
	if d := host.Sub(time.Unix(guest, 0)); d > 2*time.Second || d < -2*time.Second {
		t.Errorf("the container's clock is %s, %s away from the host's %s", time.Unix(guest, 0), d, host)
	}
}

// TestClock: a guest RTC in 2001 is set by NTP, from a named peer and from
// the peer the DHCP lease names.
func TestClock(t *testing.T) {
	lab, nic, registry := newLab(t, 3)
	if err := lab.Dnsmasq(t.Context(), &netlab.DHCP{Router: true, NTP: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := lab.Chrony(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, peer := range []string{lab.Host.String(), "auto"} {
		t.Run(peer, func(t *testing.T) {
			started := time.Now()
			v := boot(t, vm.NoNIC(), nic, vm.QEMUArgs("-rtc", "base=2001-01-01T00:00:00"), "b2c.ntp_peer="+peer,
				runImage(registry+"/b2c/busybox:latest", "", `sh -c 'echo epoch=$(date +%s)'`))
			expect(t, v, `: Clock set from 10\.77\.3\.1 `)
			expect(t, v, `^epoch=`)
			if got := status(t, v); got != 0 {
				t.Fatalf("status %d", got)
			}
			guestClock(t, v, started)
		})
	}
}

// TestClockUnreachable: an NTP peer that never answers is a WARNING, and
// the run goes on.
func TestClockUnreachable(t *testing.T) {
	v := boot(t, "b2c.ntp_peer=192.0.2.1", run(`echo still-ran`))
	expect(t, v, `: Setting the time with NTP$`)
	expect(t, v, `WARNING: could not set the time from 192\.0\.2\.1: `)
	expect(t, v, `^still-ran$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("status %d", got)
	}
	a, _, _ := v.FirstLine(`: Setting the time with NTP$`)
	b, _, _ := v.FirstLine(`WARNING: could not set the time`)
	t.Logf("the NTP step gave up after %.1f s", (b.At - a.At).Seconds())
}

// TestProxy: the pull goes through a real HTTP proxy, for a registry name
// only the proxy's machine can resolve.
func TestProxy(t *testing.T) {
	lab, nic, _ := newLab(t, 4)
	// The lab's DNS knows no name and has no upstream: the guest cannot
	// resolve this machine's name; tinyproxy, on this machine, can.
	if err := lab.Dnsmasq(t.Context(), &netlab.DHCP{Router: true}, nil); err != nil {
		t.Fatal(err)
	}
	proxy, err := lab.Tinyproxy(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	name, target := registryByHostname(t, lab)
	v := boot(t, vm.NoNIC(), nic, "b2c.ntp_peer=none", "b2c.proxy=https="+proxy+",http="+proxy,
		runImage(target+"/b2c/busybox:latest", "", `echo proxied`))
	expect(t, v, `^proxied$`)
	if got := status(t, v); got != 0 {
		t.Fatalf("status %d", got)
	}
	log := lab.Log("tinyproxy")
	if !regexp.MustCompile(`Request .*` + regexp.QuoteMeta(target) + `/v2/`).MatchString(log) {
		t.Errorf("tinyproxy's log has no request for %s (%s):\n%s", target, name, log)
	}
}

// registryByHostname returns this machine's name and NAME:PORT where
// the registry answers under it.
func registryByHostname(t *testing.T, lab *netlab.Lab) (string, string) {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	addrs, err := net.DefaultResolver.LookupHost(ctx, name)
	if err != nil || len(addrs) == 0 {
		t.Fatalf("this machine's name %s does not resolve here: %v", name, err)
	}
	fwd, err := lab.Forward(net.JoinHostPort(addrs[0], "0"), reg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(fwd)
	return name, net.JoinHostPort(name, port)
}

// TestNetworkNoDHCP: a port whose link is up but where nobody answers DHCP
// gives, within the bounded time, what was tried on each interface, the
// ERROR and the end of the run.
func TestNetworkNoDHCP(t *testing.T) {
	v := boot(t, vm.NoNIC(), vm.QEMUArgs(
		"-netdev", "hubport,id=dead,hubid=1", "-device", "virtio-net-pci,netdev=dead,romfile="),
		run(`echo never`))
	expect(t, v, `: Network: no DHCP lease on any interface$`)
	expect(t, v, `:   eth0 \(link up\): no DHCP offer within 20s$`)
	expect(t, v, `ERROR: Could not connect to the network, shutting down!`)
	if got := status(t, v); got != 1 {
		t.Errorf("pipeline status = %d, want 1", got)
	}
	if l, ok, _ := v.FirstLine(`^never$`); ok {
		t.Errorf("the container ran: %q", l.Text)
	}
	gaveUp := firstLine(t, v, `: Network: no DHCP lease`) - firstLine(t, v, `Connecting to the network`)
	t.Logf("DHCP gave up after %.1f s", gaveUp)
}

// TestClockTLS: a machine whose clock says 2001 pulls from a registry
// over TLS once NTP set its clock; without NTP, the certificate is not yet
// valid, and the ERROR says why.
func TestClockTLS(t *testing.T) {
	lab, nic, _ := newLab(t, 5)
	if err := lab.Dnsmasq(t.Context(), &netlab.DHCP{Router: true, NTP: true}, nil); err != nil {
		t.Fatal(err)
	}
	if err := lab.Chrony(t.Context()); err != nil {
		t.Fatal(err)
	}
	cert, err := tlsca.New("b2c test registry", net.ParseIP(lab.Host.String()))
	if err != nil {
		t.Fatal(err)
	}
	tlsReg, err := registry.Start(t.Context(), regDir, registry.TLS(cert.TLS))
	if err != nil {
		t.Fatal(err)
	}
	defer tlsReg.Close()
	addr, err := lab.Forward(lab.Host.String()+":0", tlsReg.Addr())
	if err != nil {
		t.Fatal(err)
	}
	img := withFiles(t, map[string]string{"etc/containers/certs.d/" + addr + "/ca.crt": string(cert.PEM)})
	for _, tc := range []struct {
		peer string
		want int
	}{{lab.Host.String(), 0}, {"none", 125}} {
		t.Run("ntp_peer="+tc.peer, func(t *testing.T) {
			v := boot(t, vm.Initramfs(img), vm.NoNIC(), nic, vm.QEMUArgs("-rtc", "base=2001-01-01T00:00:00"), "b2c.ntp_peer="+tc.peer,
				`b2c.run="docker://`+addr+`/b2c/busybox:latest echo pulled-over-tls"`)
			if tc.want == 0 {
				expect(t, v, `^pulled-over-tls$`)
			} else {
				expect(t, v, `ERROR: The container .* could not run: .*certificate.*this machine's clock says 2001-01-01 .*b2c\.ntp_peer`)
			}
			if got := status(t, v); got != tc.want {
				t.Errorf("pipeline status = %d, want %d", got, tc.want)
			}
		})
	}
}
