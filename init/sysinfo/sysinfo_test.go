package sysinfo

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"testing"
)

func TestRead(t *testing.T) {
	root := t.TempDir()
	for path, content := range map[string]string{
		"proc/sys/kernel/osrelease": "6.1.192\n",
		"etc/b2c.version":           "v0.1\n",
		"proc/cpuinfo":              "processor\t: 0\nmodel name\t: QEMU TCG CPU\n\nprocessor\t: 1\nmodel name\t: QEMU TCG CPU\n",
		"proc/meminfo":              "MemTotal:         524288 kB\nMemFree: 1 kB\n",
		"sys/block/vda/size":        "2097152\n",
		"sys/block/loop0/size":      "0\n",
		"sys/block/nbd0/size":       "0\n",
	} {
		p := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want := []string{
		"Linux version: 6.1.192",
		"Boot2container version: v0.1",
		"Architecture: " + runtime.GOARCH,
		"CPU: 2 x QEMU TCG CPU",
		"RAM: 0.5 GiB",
		"Block devices: vda (1.0 GiB)",
	}
	if got := Read(root).Lines(); !reflect.DeepEqual(got, want) {
		t.Errorf("Read().Lines() = %q, want %q", got, want)
	}
}

func TestReadEmptyRoot(t *testing.T) {
	got := Read(t.TempDir()).Lines()
	if got[0] != "Linux version: unknown" || got[5] != "Block devices: none" {
		t.Errorf("Read(empty).Lines() = %q", got)
	}
}
