package volumes

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/b2c-dev/b2c/init/nbd"
)

// nbdWait bounds the connection of one b2c.nbd device: a server that is
// still starting gets this long, retried every nbdRetry.
const (
	nbdWait  = 30 * time.Second
	nbdRetry = 2 * time.Second
)

// connectNBDs connects the b2c.nbd devices, in order, before anything is
// mounted: a file system, the cache or the swap may be on one. The first
// device that does not connect is the error.
func (s *Storage) connectNBDs(ctx context.Context) error {
	for _, n := range s.cfg.NBDs {
		addr := net.JoinHostPort(n.Host, strconv.Itoa(n.Port))
		d, err := connectNBD(ctx, n.Device, addr, n.Connections)
		if err != nil {
			return fmt.Errorf("b2c.nbd %s: cannot connect to %s: %w", n.Device, addr, err)
		}
		s.nbds = append(s.nbds, d)
		s.con.Logf("NBD: %s connected to %s (%d MiB%s, %d connection%s)", d.Path, addr, d.Export.Size>>20,
			map[bool]string{true: ", read-only"}[d.Export.Flags&nbd.FlagReadOnly != 0], n.Connections,
			map[bool]string{true: "s"}[n.Connections > 1])
		s.watchNBD(d)
	}
	return nil
}

// connectNBD retries a refused or failed connection for nbdWait.
func connectNBD(ctx context.Context, dev, addr string, conns int) (*nbd.Device, error) {
	ctx, cancel := context.WithTimeout(ctx, nbdWait)
	defer cancel()
	for {
		d, err := nbd.Connect(ctx, dev, addr, conns)
		if err == nil {
			return d, nil
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w (gave up after %v)", err, nbdWait)
		case <-time.After(nbdRetry):
		}
	}
}

// watchNBD ends the run when a device loses its server: every I/O on it
// fails from then on, and podman, whose state is on the cache, can then
// report a failed container as a success.
func (s *Storage) watchNBD(d *nbd.Device) {
	go func() {
		err := <-d.Done()
		select {
		case <-s.nbdStop:
			return // Unmount disconnected it
		default:
		}
		if err == nil {
			err = fmt.Errorf("the server closed it")
		}
		s.lost(fmt.Sprintf("b2c.nbd %s: lost the connection to %s (%v), ending the run", d.Path, d.Addr, err))
	}()
}

// lost ends the run with msg: the storage cannot go on.
func (s *Storage) lost(msg string) {
	if s.Lost != nil {
		s.Lost(msg)
		return
	}
	s.con.Errorf("%s", msg)
}

// disconnectNBDs ends the devices' connections, after everything on them
// is unmounted.
func (s *Storage) disconnectNBDs() {
	if len(s.nbds) == 0 {
		return
	}
	close(s.nbdStop)
	for _, d := range s.nbds {
		if err := d.Disconnect(); err != nil {
			s.con.Warnf("%v", err)
		}
	}
	s.nbds = nil
}
