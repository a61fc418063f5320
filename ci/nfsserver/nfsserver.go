// Package nfsserver runs an NFS server on the host for the scenarios of
// diskless machines: Debian's nfs-ganesha, a userspace server, since the
// host's kernel may have no nfsd. It exports one directory over NFSv4 on
// a free port of 127.0.0.1, which the guest reaches as 10.0.2.2 (mount
// option port=).
package nfsserver

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
	"time"

	"github.com/b2c-dev/b2c/ci/netlab"
)

// Pseudo is the export's path in the server's NFSv4 namespace: the guest
// mounts 10.0.2.2:/export.
const Pseudo = "/export"

// Server is a running ganesha.nfsd.
type Server struct {
	port int
	cmd  *exec.Cmd
	done chan error
	log  string
}

// Start exports dir read-write (root not squashed) and returns once the
// server accepts connections. state holds its configuration, log and
// recovery files.
func Start(ctx context.Context, state, dir string) (*Server, error) {
	bin, err := exec.LookPath("ganesha.nfsd")
	if err != nil {
		return nil, errors.New("ganesha.nfsd: not installed (Debian packages nfs-ganesha and nfs-ganesha-vfs; ci/deps.sh installs them)")
	}
	port, err := netlab.FreePort(netip.AddrFrom4([4]byte{127, 0, 0, 1}))
	if err != nil {
		return nil, err
	}
	s := &Server{port: port, done: make(chan error, 1), log: filepath.Join(state, "ganesha.log")}
	conf := filepath.Join(state, "ganesha.conf")
	if err := os.WriteFile(conf, []byte(config(port, state, dir)), 0o644); err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "-F", "-f", conf, "-L", s.log, "-p", filepath.Join(state, "ganesha.pid"))
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start ganesha.nfsd: %w", err)
	}
	// A server that exits (a bad configuration) ends the wait.
	wctx, cancel := context.WithCancel(ctx)
	go func() { s.done <- s.cmd.Wait(); cancel() }()
	if err := netlab.WaitTCP(wctx, s.Addr(), 30*time.Second); err != nil {
		s.Kill()
		return nil, fmt.Errorf("ganesha.nfsd: %w: %s", err, s.Log())
	}
	cancel()
	return s, nil
}

// config is the server's configuration: NFSv4 over TCP only (no rpcbind,
// no lock manager), a short grace period so that a fresh server serves at
// once, and the one export.
func config(port int, state, dir string) string {
	return fmt.Sprintf(`NFS_CORE_PARAM {
	NFS_Port = %d;
	Bind_addr = 127.0.0.1;
	Protocols = 4;
	Enable_NLM = false;
	Enable_RQUOTA = false;
}
NFSV4 {
	RecoveryBackend = fs;
	RecoveryRoot = %q;
	Grace_Period = 1;
	Lease_Lifetime = 5;
	Only_Numeric_Owners = true;
}
NFS_KRB5 { Active_krb5 = false; }
EXPORT {
	Export_Id = 1;
	Path = %q;
	Pseudo = %s;
	Access_Type = RW;
	Squash = No_Root_Squash;
	Protocols = 4;
	Transports = TCP;
	SecType = sys;
	FSAL { Name = VFS; }
}
LOG { Default_Log_Level = EVENT; }
`, port, filepath.Join(state, "recovery"), dir, Pseudo)
}

// Addr is where the host reaches the server.
func (s *Server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Port is the server's port, which the guest gives as the mount option
// port= with 10.0.2.2.
func (s *Server) Port() int { return s.port }

// Log returns the end of the server's log.
func (s *Server) Log() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4096 {
		b = b[len(b)-4096:]
	}
	return strings.TrimSpace(string(b))
}

// Kill ends the server at once, as a server that loses its power: the
// clients' connections close, and nothing answers on the port. It is also
// the way to stop it.
func (s *Server) Kill() {
	s.cmd.Process.Kill()
	<-s.done
	s.done <- nil // a second Kill returns at once
}
