// Package hostio finds the channels that `b2c run` opens between the host
// and the guest: virtio-serial ports named b2c.stdin (the terminal or pipe
// of the person at the host, for a -i container; closed at its end of
// file), b2c.stdout (the containers' output, byte for byte, which the
// serial console cannot carry: its line discipline rewrites line ends),
// and b2c.winsize (the terminal's size, "ROWS COLS" lines, for a -t
// container). A machine booted otherwise has none of them.
package hostio

import (
	"bufio"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Port names, as `b2c run` gives them to QEMU's virtserialport devices.
const (
	Stdin   = "b2c.stdin"
	Stdout  = "b2c.stdout"
	Winsize = "b2c.winsize"
)

// Devices returns the device file of each named port under sys (/sys),
// found by name in sys/class/virtio-ports: without udev, only the kernel's
// own names (/dev/vport0p1) exist.
func Devices(sys, dev string) map[string]string {
	out := map[string]string{}
	names, _ := filepath.Glob(filepath.Join(sys, "class/virtio-ports/*/name"))
	for _, n := range names {
		b, err := os.ReadFile(n)
		if err != nil {
			continue
		}
		out[strings.TrimSpace(string(b))] = filepath.Join(dev, filepath.Base(filepath.Dir(n)))
	}
	return out
}

// ReadSizes calls fn with each "ROWS COLS" line of r until its end.
func ReadSizes(r *bufio.Reader, fn func(rows, cols int)) {
	for {
		line, err := r.ReadString('\n')
		if f := strings.Fields(line); len(f) == 2 {
			rows, err1 := strconv.Atoi(f[0])
			cols, err2 := strconv.Atoi(f[1])
			if err1 == nil && err2 == nil && rows > 0 && cols > 0 {
				fn(rows, cols)
			}
		}
		if err != nil {
			return
		}
	}
}
