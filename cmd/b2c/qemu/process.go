package qemu

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os/exec"
	"syscall"
	"time"
)

// Run runs QEMU (bin with args) and calls line with each serial console
// line as the guest wrote it, without its newline, until QEMU ends. When
// ctx ends first, QEMU gets SIGTERM, on which it stops the VM at once, and
// SIGKILL after grace. QEMU's own messages go to stderr. The console is
// read from QEMU's stdout; its stdin is /dev/null, so a terminal's Ctrl-C
// reaches b2c, not the guest.
func Run(ctx context.Context, bin string, args []string, line func(string), stderr io.Writer, grace time.Duration) error {
	cmd := exec.CommandContext(ctx, bin, args...)
	// Its own process group, so that a terminal's SIGINT reaches b2c
	// alone and b2c decides how QEMU stops; Pdeathsig, so that QEMU dies
	// with a b2c that is killed.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = grace
	cmd.Stderr = stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		return fmt.Errorf("start qemu: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start qemu: %w", err)
	}
	r := bufio.NewReaderSize(out, 64<<10)
	for {
		s, err := r.ReadString('\n')
		if len(s) > 0 {
			if s[len(s)-1] == '\n' {
				s = s[:len(s)-1]
			}
			line(s)
		}
		if err != nil {
			break
		}
	}
	if err := cmd.Wait(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("qemu stopped: %w", context.Cause(ctx))
		}
		return fmt.Errorf("qemu: %w", err)
	}
	return nil
}
