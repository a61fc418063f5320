// Package sysinfo reads the runtime information printed at boot (kernel,
// b2c version, architecture, CPU, RAM, block devices) from a root
// directory, so that it is tested on a fake /proc and /sys.
package sysinfo

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Info is the runtime information.
type Info struct {
	Linux   string
	Version string
	Arch    string
	CPU     string
	RAMKiB  uint64
	Blocks  []string // "vda (10.0 GiB)"
}

// Lines returns the runtime-info lines (docs/cmdline.md, "Console output").
func (i Info) Lines() []string {
	blocks := strings.Join(i.Blocks, ", ")
	if blocks == "" {
		blocks = "none"
	}
	return []string{
		"Linux version: " + i.Linux,
		"Boot2container version: " + i.Version,
		"Architecture: " + i.Arch,
		"CPU: " + i.CPU,
		fmt.Sprintf("RAM: %.1f GiB", float64(i.RAMKiB)/(1<<20)),
		"Block devices: " + blocks,
	}
}

// Read reads the information under root ("/" on the machine).
func Read(root string) Info {
	p := func(s string) string { return filepath.Join(root, s) }
	i := Info{Arch: runtime.GOARCH, Linux: "unknown", Version: "unknown", CPU: "unknown"}
	if b, err := os.ReadFile(p("/proc/sys/kernel/osrelease")); err == nil {
		i.Linux = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(p("/etc/b2c.version")); err == nil {
		i.Version = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile(p("/proc/cpuinfo")); err == nil {
		n, model := 0, ""
		for _, line := range strings.Split(string(b), "\n") {
			k, v, ok := strings.Cut(line, ":")
			if !ok {
				continue
			}
			switch strings.TrimSpace(k) {
			case "processor":
				n++
			case "model name":
				if model == "" {
					model = strings.TrimSpace(v)
				}
			}
		}
		if model == "" {
			model = "unknown model"
		}
		i.CPU = fmt.Sprintf("%d x %s", n, model)
	}
	if b, err := os.ReadFile(p("/proc/meminfo")); err == nil {
		s := bufio.NewScanner(bytes.NewReader(b))
		for s.Scan() {
			f := strings.Fields(s.Text())
			if len(f) >= 2 && f[0] == "MemTotal:" {
				i.RAMKiB, _ = strconv.ParseUint(f[1], 10, 64)
			}
		}
	}
	entries, _ := os.ReadDir(p("/sys/block"))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, "loop") || strings.HasPrefix(name, "ram") {
			continue
		}
		size := "?"
		if b, err := os.ReadFile(p("/sys/block/" + name + "/size")); err == nil {
			sectors, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			if err == nil && sectors == 0 {
				continue // an unconnected nbd, an empty drive
			}
			if err == nil {
				size = fmt.Sprintf("%.1f GiB", float64(sectors*512)/(1<<30))
			}
		}
		i.Blocks = append(i.Blocks, fmt.Sprintf("%s (%s)", name, size))
	}
	sort.Strings(i.Blocks)
	return i
}
