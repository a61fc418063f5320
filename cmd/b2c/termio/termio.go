// Package termio carries the terminal or the pipes of the person running
// `b2c run` to the VM and back, over virtio-serial ports (init/hostio on
// the guest's side): standard input to b2c.stdin, closed at its end of
// file; b2c.stdout, the containers' output byte for byte, to standard
// output; and, for -t, the terminal's size to b2c.winsize, at the start
// and at each change. The serial console cannot carry these: its line
// discipline rewrites line ends, and it has no end of file. With -t on a
// terminal, the terminal goes raw, so that every key (Ctrl-C included)
// reaches the container; Ctrl-] then q stops the VM.
package termio

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// Port names, as the agent looks for them (init/hostio).
const (
	stdinPort   = "b2c.stdin"
	stdoutPort  = "b2c.stdout"
	winsizePort = "b2c.winsize"
)

// EscapeHelp is what the person at a -t terminal is told.
const EscapeHelp = "b2c: Ctrl-] then q stops the VM"

// Session is the ports of one run.
type Session struct {
	stdin, stdout, winsize net.Listener
	raw                    *term.State // the terminal's state before raw mode
	rawFd                  int
	out                    sync.WaitGroup
}

// Listen makes the ports' sockets in dir: b2c.stdout always, b2c.stdin
// with interactive, b2c.winsize with tty; and returns them for QEMU.
func Listen(dir string, interactive, tty bool) (*Session, []qemu.Port, error) {
	s := &Session{}
	var ports []qemu.Port
	listen := func(name string) (net.Listener, error) {
		path := filepath.Join(dir, name)
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, fmt.Errorf("port %s: %w", name, err)
		}
		ports = append(ports, qemu.Port{Name: name, Socket: path})
		return l, nil
	}
	var err error
	if s.stdout, err = listen(stdoutPort); err != nil {
		return nil, nil, err
	}
	if interactive {
		if s.stdin, err = listen(stdinPort); err != nil {
			s.Close()
			return nil, nil, err
		}
	}
	if tty {
		if s.winsize, err = listen(winsizePort); err != nil {
			s.Close()
			return nil, nil, err
		}
	}
	return s, ports, nil
}

// Close closes the sockets and gives the terminal its state back.
func (s *Session) Close() {
	for _, l := range []net.Listener{s.stdin, s.stdout, s.winsize} {
		if l != nil {
			l.Close()
		}
	}
	if s.raw != nil {
		term.Restore(s.rawFd, s.raw)
		s.raw = nil
	}
}

// Serve copies between the ports and stdin and stdout once QEMU connects,
// until the run ends; stop is called when the person types the escape.
// With tty and a terminal as stdin, the terminal is raw until Close.
func (s *Session) Serve(ctx context.Context, stdin *os.File, stdout io.Writer, tty bool, stop func()) error {
	if tty && term.IsTerminal(int(stdin.Fd())) {
		st, err := term.MakeRaw(int(stdin.Fd()))
		if err != nil {
			return fmt.Errorf("raw terminal: %w", err)
		}
		s.raw, s.rawFd = st, int(stdin.Fd())
	}
	s.out.Add(1)
	go func() {
		defer s.out.Done()
		c, err := s.stdout.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.Copy(stdout, c)
	}()
	if s.stdin != nil {
		go func() {
			c, err := s.stdin.Accept()
			if err != nil {
				return
			}
			var in io.Reader = stdin
			if s.raw != nil {
				in = &escaper{r: stdin, stop: stop}
			}
			io.Copy(c, in)
			// Only the writing half: QEMU drops what it did not read
			// yet when the socket hangs up, while after a half close it
			// reads all of it, then the end of file, which the guest
			// reads after the data.
			if uc, ok := c.(*net.UnixConn); ok {
				uc.CloseWrite()
			} else {
				c.Close()
			}
		}()
	}
	if s.winsize != nil {
		go func() {
			c, err := s.winsize.Accept()
			if err != nil {
				return
			}
			defer c.Close()
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGWINCH)
			defer signal.Stop(sig)
			for {
				if rows, cols, ok := size(stdin, stdout); ok {
					fmt.Fprintf(c, "%d %d\n", rows, cols)
				}
				select {
				case <-ctx.Done():
					return
				case <-sig:
				}
			}
		}()
	}
	return nil
}

// size returns the terminal's size, from stdin or stdout.
func size(files ...any) (rows, cols int, ok bool) {
	for _, f := range files {
		if f, isFile := f.(*os.File); isFile {
			if w, h, err := term.GetSize(int(f.Fd())); err == nil {
				return h, w, true
			}
		}
	}
	return 0, 0, false
}

// Wait waits until the containers' output has all been copied (QEMU closes
// the port's socket when it ends), for at most d.
func (s *Session) Wait(d time.Duration) {
	done := make(chan struct{})
	go func() {
		s.out.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}

// escaper passes a raw terminal's bytes through, except the escape:
// Ctrl-] then q calls stop; Ctrl-] twice sends one Ctrl-].
type escaper struct {
	r       io.Reader
	stop    func()
	pending bool // the last byte was Ctrl-]
}

const ctrlBracket = 0x1d

func (e *escaper) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	out := p[:0]
	for _, b := range p[:n] {
		switch {
		case e.pending && b == 'q':
			e.pending = false
			e.stop()
			return len(out), io.EOF
		case e.pending:
			e.pending = false
			out = append(out, ctrlBracket)
			if b != ctrlBracket {
				out = append(out, b)
			}
		case b == ctrlBracket:
			e.pending = true
		default:
			out = append(out, b)
		}
	}
	return len(out), err
}
