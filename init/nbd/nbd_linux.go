package nbd

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel driver's ioctls (include/uapi/linux/nbd.h): _IO(0xab, n).
const (
	ioctlSetSock    = 0xab00
	ioctlSetBlkSize = 0xab01
	ioctlSetSize    = 0xab02
	ioctlDoIt       = 0xab03
	ioctlClearSock  = 0xab04
	ioctlDisconnect = 0xab08
	ioctlSetTimeout = 0xab09
	ioctlSetFlags   = 0xab0a
)

// Timeout is how long the kernel waits for the server to answer one
// request before it fails it (an I/O error): a server that vanished
// without closing its connections must not freeze the machine.
const Timeout = 30 * time.Second

// Device is a connected /dev/nbdN.
type Device struct {
	Path   string
	Addr   string // host:port
	Export Export

	f    *os.File
	done chan error // DO_IT's end: the connection is over
}

// Connect dials addr conns times, does the handshake on each connection
// and gives them to the kernel, which serves them as path (/dev/nbdN).
// It returns once the device has its size. Dialing gives up at ctx's end.
func Connect(ctx context.Context, path, addr string, conns int) (*Device, error) {
	if conns < 1 {
		conns = 1
	}
	d := &Device{Path: path, Addr: addr, done: make(chan error, 1)}
	var socks []*os.File
	defer func() {
		for _, s := range socks {
			s.Close()
		}
	}()
	for i := 0; i < conns; i++ {
		s, exp, err := dial(ctx, addr)
		if err != nil {
			return nil, err
		}
		socks = append(socks, s)
		if i == 0 {
			d.Export = exp
		} else if exp.Size != d.Export.Size {
			return nil, fmt.Errorf("%s: the connections see exports of different sizes", addr)
		}
	}
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	d.f = f
	if err := d.start(socks); err != nil {
		f.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := d.waitSize(ctx); err != nil {
		d.Disconnect()
		return nil, err
	}
	return d, nil
}

// dial opens one connection to addr and does the handshake on it. It
// returns the connection as a file, which the kernel takes.
func dial(ctx context.Context, addr string) (*os.File, Export, error) {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, Export{}, err
	}
	defer c.Close() // the file below is a duplicate, which stays open
	if dl, ok := ctx.Deadline(); ok {
		c.SetDeadline(dl)
	}
	exp, err := Handshake(c)
	if err != nil {
		return nil, Export{}, fmt.Errorf("%s: %w", addr, err)
	}
	if tc, ok := c.(*net.TCPConn); ok {
		// The kernel reads and writes this socket from now on: a dead
		// peer must show as an error rather than a silence.
		tc.SetKeepAlive(true)
		tc.SetKeepAlivePeriod(10 * time.Second)
	}
	f, err := c.(*net.TCPConn).File()
	if err != nil {
		return nil, Export{}, fmt.Errorf("%s: %w", addr, err)
	}
	return f, exp, nil
}

// configure gives the export's geometry, flags and sockets to the kernel.
func (d *Device) configure(f *os.File, socks []*os.File) error {
	fd := int(f.Fd())
	bs := uint64(4096)
	if d.Export.Size%bs != 0 {
		bs = 512
	}
	steps := []struct {
		name     string
		req, arg uintptr
	}{
		{"block size", ioctlSetBlkSize, uintptr(bs)},
		{"size", ioctlSetSize, uintptr(d.Export.Size)},
		{"flags", ioctlSetFlags, uintptr(d.Export.Flags)},
		{"timeout", ioctlSetTimeout, uintptr(Timeout / time.Second)},
	}
	for _, s := range socks {
		steps = append(steps, struct {
			name     string
			req, arg uintptr
		}{"socket", ioctlSetSock, s.Fd()})
	}
	for _, s := range steps {
		if _, _, errno := unix.Syscall(unix.SYS_IOCTL, uintptr(fd), s.req, s.arg); errno != 0 {
			if s.name == "socket" && errno == unix.EBUSY {
				return errors.New("already connected")
			}
			return fmt.Errorf("set the %s: %w", s.name, errno)
		}
	}
	return nil
}

// start configures the device and runs the kernel's transmission
// (NBD_DO_IT), which returns when the connections end: a disconnect, or
// the server gone. Both happen on one locked thread: the driver gives the
// device to the task that set it up, and DO_IT blocks that thread for the
// device's life.
func (d *Device) start(socks []*os.File) error {
	started := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread ends with the goroutine
		if err := d.configure(d.f, socks); err != nil {
			// The sockets given so far go, and the device is free for
			// another try.
			unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), ioctlClearSock, 0)
			started <- err
			return
		}
		started <- nil
		_, _, errno := unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), ioctlDoIt, 0)
		var err error
		if errno != 0 {
			err = errno
		}
		unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), ioctlClearSock, 0)
		d.done <- err
		close(d.done)
	}()
	return <-started
}

// waitSize waits for the kernel to show the device's size (the driver
// starts its transmission in DO_IT), then rereads its partition table.
func (d *Device) waitSize(ctx context.Context) error {
	sizeFile := filepath.Join("/sys/block", filepath.Base(d.Path), "size")
	for {
		b, _ := os.ReadFile(sizeFile)
		if n, _ := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); n > 0 {
			break
		}
		select {
		case err := <-d.done:
			return fmt.Errorf("%s: the connection ended at once: %v", d.Path, err)
		case <-ctx.Done():
			return fmt.Errorf("%s: the device did not start: %w", d.Path, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	f, err := os.Open(d.Path)
	if err != nil {
		return nil
	}
	defer f.Close()
	// The partitions of a disk that holds a table appear now: a cache
	// on /dev/nbdNp1 is found as on any disk. Failing is harmless.
	unix.IoctlSetInt(int(f.Fd()), unix.BLKRRPART, 0)
	return nil
}

// Done is closed once the connection is over; it first yields DO_IT's
// error (nil after a Disconnect).
func (d *Device) Done() <-chan error { return d.done }

// Disconnect tells the server goodbye and waits (a bounded time) for the
// kernel to let the connection go. The device must be unused: swap off,
// file systems unmounted.
func (d *Device) Disconnect() error {
	unix.Syscall(unix.SYS_IOCTL, d.f.Fd(), ioctlDisconnect, 0)
	select {
	case <-d.done:
	case <-time.After(5 * time.Second):
		return fmt.Errorf("disconnect %s: the kernel still holds the connection after 5s", d.Path)
	}
	return d.f.Close()
}
