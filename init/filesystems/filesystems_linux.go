package filesystems

import (
	"context"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/disks"
)

// nodeWait bounds the wait for a source device node (a USB disk's).
const nodeWait = 10 * time.Second

// mountWait bounds the mount of a network file system: the kernel's
// client may retry a server that does not answer for minutes.
const mountWait = time.Minute

// Apply makes the mounts in order and stops at the first failure.
func Apply(ctx context.Context, mounts []Mount) error {
	for _, m := range mounts {
		m, err := Resolve(m, func(host string) ([]string, error) { return net.DefaultResolver.LookupHost(ctx, host) })
		if err != nil {
			return fmt.Errorf("%v: %w", m, err)
		}
		if strings.HasPrefix(m.Source, "/dev/") {
			if err := disks.WaitNode(ctx, m.Source, nodeWait); err != nil {
				return fmt.Errorf("%v: %w", m, err)
			}
		}
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return fmt.Errorf("%v: %w", m, err)
		}
		if err := mount(ctx, m); err != nil {
			return fmt.Errorf("%v: %w", m, err)
		}
	}
	return nil
}

// mount makes one mount; that of a network file system gives up after
// mountWait (its thread stays blocked in the kernel, until the server
// answers or the machine powers off).
func mount(ctx context.Context, m Mount) error {
	if !Network(m.Type) {
		return unix.Mount(m.Source, m.Target, m.Type, m.Flags, m.Data)
	}
	done := make(chan error, 1)
	go func() { done <- unix.Mount(m.Source, m.Target, m.Type, m.Flags, m.Data) }()
	select {
	case err := <-done:
		return err
	case <-time.After(mountWait):
		return fmt.Errorf("the server did not answer in %v", mountWait)
	case <-ctx.Done():
		return ctx.Err()
	}
}
