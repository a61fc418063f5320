// Package cache picks, prepares and mounts the cache partition of
// b2c.cache_device (docs/cmdline.md): the ext4 file system labelled
// B2C_CACHE where images, layers, volumes and swap live across boots.
// Choose decides from the list of block devices, without side effects;
// Setup and Unmount do the work.
package cache

import (
	"fmt"
	"strings"

	"github.com/b2c-dev/b2c/init/disks"
)

// Label is the file system label, and the GPT partition name, of the cache.
// The partition name survives a corrupt superblock, so that b2c still
// recognises its own partition and reformats it.
const Label = "B2C_CACHE"

// Action is what Setup does to the chosen device.
type Action int

const (
	InRAM       Action = iota // no cache: images and volumes live in tmpfs
	Use                       // mount the partition as it is
	Format                    // make ext4 on the partition, then mount it
	Repartition               // write a GPT with one partition on the disk, format it, mount it
)

func (a Action) String() string {
	return [...]string{"in RAM", "use", "format", "repartition"}[a]
}

// Plan is the decision of Choose.
type Plan struct {
	Action Action
	Device string // the partition to use or format, the disk to repartition
	FSType string // the file system to mount for Use; ext4 otherwise
	// Ours tells that the partition is b2c's own: if it cannot be
	// mounted (corrupt), it is reformatted rather than left to block
	// the run. A partition that carries another label is never
	// formatted.
	Ours bool
	// Warnings explain a choice a lab would not expect: no disk, a
	// skipped disk, a reformat.
	Warnings []string
	// Notes tell what the boot does that is expected, such as formatting
	// the new, empty cache partition of a flashed disk image.
	Notes []string
}

func (p Plan) String() string {
	if p.Action == InRAM {
		return "no cache partition: images and volumes live in RAM"
	}
	return fmt.Sprintf("%s %s", p.Action, p.Device)
}

// Choose applies the rules of b2c.cache_device (none, auto, reset, or a
// /dev path) to the machine's devices. A b2c.filesystem name is resolved
// before Choose is called.
func Choose(mode string, devs []disks.Device) Plan {
	switch mode {
	case "", "none":
		return Plan{Action: InRAM}
	case "auto", "reset":
		devs = local(devs)
		if p, ok := existing(devs, mode == "reset"); ok {
			return p
		}
		return firstDisk(devs)
	}
	if !strings.HasPrefix(mode, "/dev/") {
		return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("b2c.cache_device=%s is neither a device nor a b2c.filesystem name", mode)}}
	}
	var dev *disks.Device
	for i := range devs {
		if devs[i].Path == mode {
			dev = &devs[i]
		}
	}
	switch {
	case dev == nil:
		return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("cache device %s not found", mode)}}
	case dev.CDROM:
		return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("cache device %s is a CD-ROM: not using it", mode)}}
	case dev.ReadOnly:
		return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("cache device %s is read-only: not using it", mode)}}
	case dev.ProbeErr != nil:
		return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("cache device %s: cannot tell what it holds (%v): not formatting it", mode, dev.ProbeErr)}}
	case dev.IsDisk():
		parts := partitionsOf(devs, dev.Name)
		if p, ok := existing(parts, false); ok {
			return p
		}
		// The lab named the disk: consent to repartition it, but not
		// blind. A partition whose probe failed may hold b2c's own
		// cache, or anything.
		if u := unknown(parts); u != nil {
			return Plan{Action: InRAM, Warnings: []string{fmt.Sprintf("cache device %s: cannot tell what %s holds (%v): not repartitioning it", mode, u.Path, u.ProbeErr)}}
		}
		return Plan{Action: Repartition, Device: dev.Path, Ours: true}
	case dev.Label == "":
		return Plan{Action: Format, Device: dev.Path, Ours: true}
	default:
		return Plan{Action: Use, Device: dev.Path, FSType: dev.FSType, Ours: dev.Label == Label}
	}
}

// local leaves out the network's block devices (b2c.nbd): only a device
// that the command line names is used over the network.
func local(devs []disks.Device) []disks.Device {
	var out []disks.Device
	for _, d := range devs {
		if !d.Network {
			out = append(out, d)
		}
	}
	return out
}

// existing finds b2c's partition among devs: by its file system label, or
// by its GPT name when the file system is unreadable.
func existing(devs []disks.Device, reset bool) (Plan, bool) {
	for _, d := range devs {
		if !d.IsDisk() && d.Label == Label && !d.CDROM && !d.ReadOnly {
			if reset {
				return Plan{Action: Format, Device: d.Path, Ours: true}, true
			}
			return Plan{Action: Use, Device: d.Path, FSType: d.FSType, Ours: true}, true
		}
	}
	for _, d := range devs {
		if !d.IsDisk() && d.PartName == Label && d.Label == "" && !d.CDROM && !d.ReadOnly {
			if d.Blank {
				// Made empty on purpose, by b2c disk or a lab's tool.
				return Plan{Action: Format, Device: d.Path, Ours: true, Notes: []string{
					fmt.Sprintf("formatting new cache partition %s", d.Path)}}, true
			}
			return Plan{Action: Format, Device: d.Path, Ours: true, Warnings: []string{
				fmt.Sprintf("the cache partition %s holds no readable file system (corrupt?): reformatting it", d.Path)}}, true
		}
	}
	return Plan{}, false
}

// firstDisk takes the first blank disk: writable, not a CD-ROM, and
// holding nothing a probe can see (no partition table, file system, LVM,
// LUKS or RAID signature). A disk that holds anything may be a lab's
// data: auto never claims it (the original took the first disk whatever
// it held; b2c differs on purpose), and the warning says how to.
func firstDisk(devs []disks.Device) Plan {
	var warnings []string
	for _, d := range devs {
		if !d.IsDisk() || d.CDROM || d.ReadOnly {
			continue
		}
		parts := partitionsOf(devs, d.Name)
		if u := unknown(append(parts, d)); u != nil {
			warnings = append(warnings, fmt.Sprintf("not using %s for the cache: cannot tell what %s holds (%v)", d.Path, u.Path, u.ProbeErr))
			continue
		}
		if what := holds(d, parts); what != "" {
			warnings = append(warnings, fmt.Sprintf("not using %s for the cache: it holds %s; b2c.cache_device=%s claims it (and loses what it holds)", d.Path, what, d.Path))
			continue
		}
		return Plan{Action: Repartition, Device: d.Path, Ours: true, Warnings: warnings}
	}
	return Plan{Action: InRAM, Warnings: append(warnings, "no disk for the cache partition: images and volumes live in RAM")}
}

// holds says what a disk holds, "" when it is blank.
func holds(disk disks.Device, parts []disks.Device) string {
	for _, d := range append([]disks.Device{disk}, parts...) {
		switch {
		case d.Label != "":
			return fmt.Sprintf("%s labelled %s on %s", orUnknown(d.FSType), d.Label, d.Path)
		case d.FSType != "":
			return fmt.Sprintf("%s on %s", d.FSType, d.Path)
		}
	}
	switch {
	case disk.PTType != "":
		return fmt.Sprintf("a %s partition table", disk.PTType)
	case len(parts) > 0:
		return fmt.Sprintf("partitions (%s)", parts[0].Path)
	}
	return ""
}

func orUnknown(s string) string {
	if s == "" {
		return "a file system"
	}
	return s
}

// unknown returns the first device that could not be probed: it may hold
// a lab's data, or b2c's own cache.
func unknown(devs []disks.Device) *disks.Device {
	for i := range devs {
		if devs[i].ProbeErr != nil {
			return &devs[i]
		}
	}
	return nil
}

func partitionsOf(devs []disks.Device, disk string) []disks.Device {
	var out []disks.Device
	for _, d := range devs {
		if d.Disk == disk && !d.IsDisk() {
			out = append(out, d)
		}
	}
	return out
}

// StorageConf returns containers-storage.conf(5) for a graph root and
// read-only additional image stores.
func StorageConf(graphroot string, stores []string) string {
	var b strings.Builder
	b.WriteString("# Written by b2c at boot (init/cache): where podman keeps images.\n")
	b.WriteString("[storage]\ndriver = \"overlay\"\n")
	fmt.Fprintf(&b, "graphroot = %q\n", graphroot)
	b.WriteString("runroot = \"/run/containers/storage\"\n")
	if len(stores) > 0 {
		b.WriteString("\n[storage.options]\nadditionalimagestores = [")
		for i, s := range stores {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%q", s)
		}
		b.WriteString("]\n")
	}
	return b.String()
}
