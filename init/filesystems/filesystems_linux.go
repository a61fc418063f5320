package filesystems

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/disks"
)

// nodeWait bounds the wait for a source device node (a USB disk's).
const nodeWait = 10 * time.Second

// Apply makes the mounts in order and stops at the first failure.
func Apply(ctx context.Context, mounts []Mount) error {
	for _, m := range mounts {
		if strings.HasPrefix(m.Source, "/dev/") {
			if err := disks.WaitNode(ctx, m.Source, nodeWait); err != nil {
				return fmt.Errorf("%v: %w", m, err)
			}
		}
		if err := os.MkdirAll(m.Target, 0o755); err != nil {
			return fmt.Errorf("%v: %w", m, err)
		}
		if err := unix.Mount(m.Source, m.Target, m.Type, m.Flags, m.Data); err != nil {
			return fmt.Errorf("%v: %w", m, err)
		}
	}
	return nil
}
