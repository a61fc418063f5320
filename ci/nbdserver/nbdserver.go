// Package nbdserver runs Debian's nbd-server on the host for the
// scenarios of diskless machines: one export, the default one (the empty
// name, which b2c asks for), backed by a file, on a free port of
// 127.0.0.1 that the guest reaches as 10.0.2.2.
package nbdserver

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/b2c-dev/b2c/ci/netlab"
)

// Server is a running nbd-server.
type Server struct {
	port    int
	pidFile string
}

// Start serves the file image (which must exist, at its final size) and
// returns once the server accepts connections. dir holds its
// configuration and pid file.
func Start(ctx context.Context, dir, image string) (*Server, error) {
	bin, err := exec.LookPath("nbd-server")
	if err != nil {
		return nil, errors.New("nbd-server: not installed (Debian package nbd-server; ci/deps.sh installs it)")
	}
	port, err := netlab.FreePort(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	if err != nil {
		return nil, err
	}
	// A configuration of our own: Debian's /etc/nbd-server/config would
	// make the server run as the nbd user, which cannot read the test's
	// files. The export on the command line is the default export.
	conf := filepath.Join(dir, "nbd-server.conf")
	if err := os.WriteFile(conf, []byte("[generic]\n"), 0o644); err != nil {
		return nil, err
	}
	s := &Server{port: port, pidFile: filepath.Join(dir, "nbd-server.pid")}
	// nbd-server daemonizes (it writes its pid file then), and forks a
	// process per connection: Kill ends the whole session.
	out, err := exec.CommandContext(ctx, bin, "-C", conf, "-p", s.pidFile, "127.0.0.1@"+strconv.Itoa(port), image).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("nbd-server: %v: %s", err, out)
	}
	if err := netlab.WaitTCP(ctx, s.Addr(), 10*time.Second); err != nil {
		s.Kill()
		return nil, fmt.Errorf("nbd-server: %w", err)
	}
	return s, nil
}

// Addr is where the host reaches the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's port, which the guest reaches on 10.0.2.2.
func (s *Server) Port() int { return s.port }

// Kill ends the server and every connection it serves at once, as a
// server that crashes or loses its power: the clients see their
// connections closed. It is also the way to stop it.
func (s *Server) Kill() error {
	b, err := os.ReadFile(s.pidFile)
	if err != nil {
		return fmt.Errorf("nbd-server: %w", err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || pid <= 1 {
		return fmt.Errorf("nbd-server: bad pid file %q", b)
	}
	// The daemon leads its own session; its per-connection children
	// stay in its process group.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil && !errors.Is(err, syscall.ESRCH) {
		return fmt.Errorf("nbd-server: kill: %w", err)
	}
	return nil
}
