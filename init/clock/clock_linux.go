package clock

import (
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// Adjust moves the system clock by offset.
func Adjust(offset time.Duration) error {
	tv := unix.NsecToTimeval(time.Now().Add(offset).UnixNano())
	if err := unix.Settimeofday(&tv); err != nil {
		return fmt.Errorf("settimeofday: %w", err)
	}
	return nil
}
