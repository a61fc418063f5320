package console

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// Uptime returns the time since boot, suspend included.
func Uptime() time.Duration {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_BOOTTIME, &ts); err != nil {
		return 0
	}
	return time.Duration(ts.Nano())
}

// Open opens the devices named by the console= arguments ("ttyS0,115200n8",
// "tty0") under dev, or dev/console when there are none or none opens, and
// returns a writer to all of them and the last one (the kernel's
// /dev/console) as input.
func Open(dev string, consoles []string) (io.Writer, *os.File, error) {
	var files []*os.File
	var errs []string
	seen := map[string]bool{}
	for _, c := range consoles {
		name, _, _ := strings.Cut(c, ",")
		if name == "" || seen[name] {
			continue
		}
		seen[name] = true
		f, err := os.OpenFile(dev+"/"+name, os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		f, err := os.OpenFile(dev+"/console", os.O_RDWR|unix.O_NOCTTY, 0)
		if err != nil {
			return nil, nil, fmt.Errorf("open consoles %q: %s; %w", consoles, strings.Join(errs, "; "), err)
		}
		files = append(files, f)
	}
	ws := make([]io.Writer, len(files))
	for i, f := range files {
		ws[i] = f
	}
	return Tee(ws...), files[len(files)-1], nil
}
