// Package netlab builds lab networks on this machine for end-to-end tests
// of the agent's network step: a Linux bridge with the host on .1 of its
// own /24, tap devices for QEMU on it, and the lab's services run from
// Debian's packages: dnsmasq (DHCP, DNS), chrony (NTP) and tinyproxy (an
// HTTP proxy), plus TCP forwarders to services listening on 127.0.0.1.
//
// Every service logs to a file in the lab's directory, so that a test can
// check what the guest asked. Close stops them and deletes the devices.
// It needs root (CAP_NET_ADMIN) and /dev/net/tun.
package netlab

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lab is one bridge and what runs on it.
type Lab struct {
	Bridge string
	Prefix netip.Prefix // 10.77.N.0/24
	Host   netip.Addr   // the host's address on the bridge, 10.77.N.1
	Dir    string       // the services' configuration and logs

	hold    io.Closer // the lab number's claim (see claim)
	mu      sync.Mutex
	devices []string
	procs   []*exec.Cmd
	closers []io.Closer
}

// New creates the bridge of lab n (0-254), named b2cbrN, with the host on
// 10.77.N.1/24, and keeps the services' files in dir. When another test
// run on this machine holds lab n, it takes the next free number of
// n+16, n+32, … (mod 255) instead. A bridge left by a killed run is
// deleted first.
func New(ctx context.Context, n int, dir string) (*Lab, error) {
	if n < 0 || n > 254 {
		return nil, fmt.Errorf("netlab: lab number %d out of 0-254", n)
	}
	n, hold, err := claim(n)
	if err != nil {
		return nil, err
	}
	l := &Lab{
		hold:   hold,
		Bridge: "b2cbr" + strconv.Itoa(n),
		Prefix: netip.MustParsePrefix(fmt.Sprintf("10.77.%d.0/24", n)),
		Host:   netip.MustParseAddr(fmt.Sprintf("10.77.%d.1", n)),
		Dir:    dir,
	}
	ip(ctx, "link", "del", l.Bridge) // a leftover, if any
	if err := ip(ctx, "link", "add", l.Bridge, "type", "bridge"); err != nil {
		hold.Close()
		return nil, err
	}
	l.devices = append(l.devices, l.Bridge)
	for _, args := range [][]string{
		{"addr", "add", l.Host.String() + "/24", "dev", l.Bridge},
		{"link", "set", l.Bridge, "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			l.Close()
			return nil, err
		}
	}
	return l, nil
}

// Addr returns the address .i of the lab's network.
func (l *Lab) Addr(i int) netip.Addr {
	a := l.Prefix.Addr().As4()
	a[3] = byte(i)
	return netip.AddrFrom4(a)
}

// Tap creates a tap device on the bridge for a QEMU NIC and returns its
// name (b2ctapN_I).
func (l *Lab) Tap(ctx context.Context) (string, error) {
	l.mu.Lock()
	name := fmt.Sprintf("%st%d", strings.Replace(l.Bridge, "b2cbr", "b2c", 1), len(l.devices))
	l.mu.Unlock()
	ip(ctx, "link", "del", name)
	if err := ip(ctx, "tuntap", "add", "dev", name, "mode", "tap"); err != nil {
		return "", err
	}
	l.mu.Lock()
	l.devices = append(l.devices, name)
	l.mu.Unlock()
	for _, args := range [][]string{
		{"link", "set", name, "master", l.Bridge},
		{"link", "set", name, "up"},
	} {
		if err := ip(ctx, args...); err != nil {
			return "", err
		}
	}
	return name, nil
}

// QEMUNIC returns the QEMU arguments of a virtio NIC on tap.
func QEMUNIC(tap, id string) []string {
	return []string{
		"-netdev", fmt.Sprintf("tap,id=%s,ifname=%s,script=no,downscript=no", id, tap),
		"-device", fmt.Sprintf("virtio-net-pci,netdev=%s,romfile=", id),
	}
}

// Forward accepts connections on the lab's host address and port (0: a
// free one) and relays them to target, a service of 127.0.0.1, and
// returns the address it listens on.
func (l *Lab) Forward(listen, target string) (string, error) {
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return "", fmt.Errorf("netlab: forward %s: %w", target, err)
	}
	l.mu.Lock()
	l.closers = append(l.closers, ln)
	l.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go relay(c, target)
		}
	}()
	return ln.Addr().String(), nil
}

func relay(c net.Conn, target string) {
	defer c.Close()
	t, err := net.DialTimeout("tcp", target, 10*time.Second)
	if err != nil {
		return
	}
	defer t.Close()
	done := make(chan struct{}, 2)
	go func() { io.Copy(t, c); t.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	go func() { io.Copy(c, t); c.(*net.TCPConn).CloseWrite(); done <- struct{}{} }()
	<-done
	<-done
}

// DHCP configures the lab's dnsmasq.
type DHCP struct {
	Router  bool                  // offer the host as the default route
	NTP     bool                  // offer the host as NTP server (option 42)
	Domain  string                // the search domain, when not ""
	Records map[string]netip.Addr // names dnsmasq's DNS answers
}

// Dnsmasq starts dnsmasq on the bridge: DHCP for .50-.150 when dhcp is
// not nil, and DNS on the host address for the records, with no upstream
// server. Its log, with every DHCP exchange, is Dir/dnsmasq.log.
func (l *Lab) Dnsmasq(ctx context.Context, dhcp *DHCP, records map[string]netip.Addr) error {
	args := []string{
		"--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv", "--no-hosts",
		"--bind-interfaces", "--interface=" + l.Bridge, "--except-interface=lo",
		"--listen-address=" + l.Host.String(),
		"--pid-file=" + filepath.Join(l.Dir, "dnsmasq.pid"),
		"--log-facility=" + filepath.Join(l.Dir, "dnsmasq.log"), "--log-queries",
		"--user=root", "--group=root",
	}
	for name, a := range records {
		args = append(args, "--host-record="+name+","+a.String())
	}
	if dhcp != nil {
		args = append(args, "--log-dhcp",
			"--dhcp-leasefile="+filepath.Join(l.Dir, "dnsmasq.leases"),
			fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,1h", l.Addr(50), l.Addr(150)))
		if dhcp.Router {
			args = append(args, "--dhcp-option=option:router,"+l.Host.String())
		} else {
			args = append(args, "--dhcp-option=option:router")
		}
		args = append(args, "--dhcp-option=option:dns-server,"+l.Host.String())
		if dhcp.NTP {
			args = append(args, "--dhcp-option=option:ntp-server,"+l.Host.String())
		}
		if dhcp.Domain != "" {
			args = append(args, "--domain="+dhcp.Domain, "--dhcp-option=option:domain-search,"+dhcp.Domain)
		}
	}
	if err := l.start(ctx, "dnsmasq", "/usr/sbin/dnsmasq", args...); err != nil {
		return err
	}
	// Started is not serving: on a loaded machine a lookup right after
	// the start was refused. dnsmasq binds its UDP and TCP sockets
	// together, so TCP answering means DNS does.
	return WaitTCP(ctx, net.JoinHostPort(l.Host.String(), "53"), 10*time.Second)
}

// Chrony starts chronyd as an NTP server on the host address (port 123),
// serving this machine's clock without touching it.
func (l *Lab) Chrony(ctx context.Context) error {
	conf := filepath.Join(l.Dir, "chrony.conf")
	text := fmt.Sprintf(`# netlab: serve the host's clock, never adjust it
local stratum 8
allow %s
bindaddress %s
port 123
cmdport 0
pidfile %s
`, l.Prefix, l.Host, filepath.Join(l.Dir, "chronyd.pid"))
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return err
	}
	return l.start(ctx, "chronyd", "/usr/sbin/chronyd", "-d", "-x", "-u", "root", "-f", conf)
}

// Tinyproxy starts an HTTP proxy on the host address and a free port and
// returns its URL. Its log, a line per request, is Dir/tinyproxy.log.
func (l *Lab) Tinyproxy(ctx context.Context) (string, error) {
	port, err := FreePort(l.Host)
	if err != nil {
		return "", err
	}
	logf := filepath.Join(l.Dir, "tinyproxy.log")
	conf := filepath.Join(l.Dir, "tinyproxy.conf")
	// As root: test directories are private to root, and so is the log.
	text := fmt.Sprintf(`User root
Group root
Listen %s
Port %d
Timeout 60
LogFile "%s"
LogLevel Info
MaxClients 20
`, l.Host, port, logf)
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return "", err
	}
	if err := l.start(ctx, "tinyproxy", "/usr/bin/tinyproxy", "-d", "-c", conf); err != nil {
		return "", err
	}
	return fmt.Sprintf("http://%s:%d", l.Host, port), WaitTCP(ctx, fmt.Sprintf("%s:%d", l.Host, port), 10*time.Second)
}

// Log returns a service's log file's content ("dnsmasq", "tinyproxy").
func (l *Lab) Log(name string) string {
	b, _ := os.ReadFile(filepath.Join(l.Dir, name+".log"))
	return string(b)
}

func (l *Lab) start(ctx context.Context, name, path string, args ...string) error {
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("netlab: %s: %w (run ci/deps.sh)", name, err)
	}
	out, err := os.Create(filepath.Join(l.Dir, name+".out"))
	if err != nil {
		return err
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		out.Close()
		return fmt.Errorf("netlab: start %s: %w", name, err)
	}
	l.mu.Lock()
	l.procs = append(l.procs, cmd)
	l.closers = append(l.closers, out)
	l.mu.Unlock()
	// A service that exits at once has a bad configuration: say so now
	// rather than as a guest timeout.
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	select {
	case err := <-exited:
		b, _ := os.ReadFile(out.Name())
		return fmt.Errorf("netlab: %s exited: %v: %s", name, err, b)
	case <-time.After(300 * time.Millisecond):
	case <-ctx.Done():
		return ctx.Err()
	}
	return nil
}

// Close stops the services and deletes the lab's devices.
func (l *Lab) Close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, p := range l.procs {
		syscall.Kill(-p.Process.Pid, syscall.SIGKILL)
	}
	l.procs = nil
	var errs []error
	for _, c := range l.closers {
		c.Close()
	}
	l.closers = nil
	for i := len(l.devices) - 1; i >= 0; i-- {
		if err := ip(context.Background(), "link", "del", l.devices[i]); err != nil {
			errs = append(errs, err)
		}
	}
	l.devices = nil
	if l.hold != nil {
		l.hold.Close()
		l.hold = nil
	}
	return errors.Join(errs...)
}

// claim holds a lab number for this process with an abstract unix socket
// named after it: such a socket lives in the network namespace, as the
// bridges do (a chroot such as ci/fresh.sh's shares it), and the kernel
// frees it when its process dies, so a killed run leaves no stale claim.
func claim(n int) (int, io.Closer, error) {
	for i := 0; i < 255; i += 16 {
		m := (n + i) % 255
		ln, err := net.Listen("unix", "@b2c-netlab-"+strconv.Itoa(m))
		if err == nil {
			return m, ln, nil
		}
	}
	return 0, nil, fmt.Errorf("netlab: lab %d and its alternatives are all in use on this machine", n)
}

func ip(ctx context.Context, args ...string) error {
	out, err := exec.CommandContext(ctx, "ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("netlab: ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

// FreePort returns a TCP port on host that nothing listens on now, for a
// server started next; it needs no root. Another process may take the
// port in between, which the server's start then reports.
func FreePort(host netip.Addr) (int, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(host.String(), "0"))
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// WaitTCP waits until a server accepts connections on addr, for at most
// within, or until ctx ends (a server that exited cancels it).
func WaitTCP(ctx context.Context, addr string, within time.Duration) error {
	deadline := time.Now().Add(within)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			return fmt.Errorf("%s does not answer: %w", addr, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
