package hostio

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestDevices(t *testing.T) {
	sys := t.TempDir()
	for port, name := range map[string]string{"vport1p1": "b2c.stdin\n", "vport1p2": "b2c.stdout\n", "vport1p3": ""} {
		d := filepath.Join(sys, "class/virtio-ports", port)
		os.MkdirAll(d, 0o755)
		os.WriteFile(filepath.Join(d, "name"), []byte(name), 0o444)
	}
	got := Devices(sys, "/dev")
	if got[Stdin] != "/dev/vport1p1" || got[Stdout] != "/dev/vport1p2" || got[Winsize] != "" {
		t.Errorf("Devices = %v", got)
	}
	if got := Devices(t.TempDir(), "/dev"); len(got) != 0 {
		t.Errorf("Devices without ports = %v", got)
	}
}

func TestReadSizes(t *testing.T) {
	var got []string
	ReadSizes(bufio.NewReader(strings.NewReader("24 80\nbad line\n0 10\n50 132")), func(r, c int) {
		got = append(got, fmt.Sprintf("%dx%d", r, c))
	})
	if strings.Join(got, " ") != "24x80 50x132" {
		t.Errorf("sizes %v", got)
	}
}
