// Package disks lists the machine's block devices and what they hold (file
// system, label, GPT partition name), for the steps that pick a cache
// partition or mount a named file system. Listing reads sysfs under a root
// directory and probes through a function, so that the choice of a cache
// is tested without disks.
package disks

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Device is one block device: a whole disk or a partition of one.
type Device struct {
	Name      string // vda, vda1, nvme0n1p1
	Path      string // /dev/vda1
	Disk      string // the whole disk's name; Name itself for a disk
	Partition int    // the partition number; 0 for a whole disk
	Size      int64  // bytes
	ReadOnly  bool
	CDROM     bool // never written to, never used as a cache
	// Network tells a b2c.nbd device (or one of its partitions): used
	// when named, never taken by b2c.cache_device=auto.
	Network bool

	// What a probe found on the device; empty when nothing.
	FSType   string // ext4, vfat, swap, crypto_LUKS, ...
	Label    string // the file system's label
	PartName string // the GPT partition's name
	PTType   string // a whole disk's partition table (gpt, dos)
	// Blank tells a partition where the probe found nothing and whose
	// first blankBytes are zeros: never written, as a partitioning tool
	// leaves it, rather than a file system gone corrupt.
	Blank bool
	// ProbeErr is why the probe failed, twice: what the device holds is
	// unknown, so it must not be formatted as if it held nothing.
	ProbeErr error
}

// blankBytes is how much of a partition Blank looks at: more than any file
// system's first structures (ext4's group descriptors follow its
// superblock within the first 8 KiB), little enough to read at boot.
const blankBytes = 64 << 10

// IsDisk tells a whole disk from a partition.
func (d Device) IsDisk() bool { return d.Partition == 0 }

func (d Device) String() string {
	s := fmt.Sprintf("%s (%s", d.Path, humanSize(d.Size))
	if d.FSType != "" {
		s += ", " + d.FSType
	}
	if d.Label != "" {
		s += ", label " + d.Label
	}
	return s + ")"
}

func humanSize(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	default:
		return fmt.Sprintf("%d MiB", n>>20)
	}
}

// Probe reports what a device holds, as blkid's KEY=VALUE pairs (TYPE,
// LABEL, PART_ENTRY_NAME). A device that holds nothing known gives an
// empty map and no error.
type Probe func(ctx context.Context, path string) (map[string]string, error)

// ignored are the block devices that are never disks of the machine:
// RAM disks, loop devices, zram swap, device-mapper and md stacks, and the
// firmware's own flash, which boards boot from and which a partition
// table would brick: MTD (SPI NOR, raw NAND; QEMU's virt machine has two,
// its UEFI flash) and UBI volumes over it. An unconnected NBD device has
// no size, and is left out as an empty drive.
var ignored = []string{"loop", "ram", "zram", "dm-", "md", "mtdblock", "ubiblock"}

// mmcHardware matches an eMMC's hardware partitions: its boot areas, which
// hold many boards' boot loader, and its replay-protected area. The user
// area, mmcblkN and its partitions, is a disk like any other.
var mmcHardware = regexp.MustCompile(`^mmcblk\d+(boot\d+|rpmb)$`)

// List returns the block devices of sysRoot/class/block, disks before their
// partitions, sorted by name, with what probe found on each. A probe error
// on one device is kept in its ProbeErr: an unreadable disk must not hide
// the others, nor look blank.
func List(ctx context.Context, sysRoot, devRoot string, probe Probe) ([]Device, error) {
	dir := filepath.Join(sysRoot, "class/block")
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("list block devices: %w", err)
	}
	var out []Device
	for _, e := range ents {
		name := e.Name()
		if skip(name) {
			continue
		}
		d, err := read(filepath.Join(dir, name), name)
		if err != nil {
			return nil, err
		}
		d.Path = filepath.Join(devRoot, name)
		if d.Size == 0 {
			continue // an empty card reader, a drive with no medium
		}
		if probe != nil && !d.CDROM {
			kv, err := probe(ctx, d.Path)
			if err != nil {
				// A probe was seen to fail once on a healthy disk; a
				// second try tells a hiccup from a device that stays
				// unreadable.
				kv, err = probe(ctx, d.Path)
			}
			d.FSType, d.Label, d.PartName, d.PTType, d.ProbeErr = kv["TYPE"], kv["LABEL"], kv["PART_ENTRY_NAME"], kv["PTTYPE"], err
			if err == nil && !d.IsDisk() && d.FSType == "" {
				d.Blank = zeroed(d.Path, blankBytes)
			}
		}
		out = append(out, d)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Disk != out[j].Disk {
			return out[i].Disk < out[j].Disk
		}
		return out[i].Partition < out[j].Partition
	})
	return out, nil
}

// zeroed tells whether the first n bytes of path (or all of it, if
// shorter) are zeros; a device it cannot read is not.
func zeroed(path string, n int64) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil || len(b) == 0 {
		return false
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func skip(name string) bool {
	if mmcHardware.MatchString(name) {
		return true
	}
	for _, p := range ignored {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// read reads one /sys/class/block entry. A partition's directory holds a
// "partition" file and sits inside its disk's directory.
func read(dir, name string) (Device, error) {
	d := Device{Name: name, Disk: name}
	num := func(file string) (int64, bool) {
		b, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			return 0, false
		}
		n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
		return n, err == nil
	}
	sectors, ok := num("size")
	if !ok {
		return d, fmt.Errorf("read %s/size", dir)
	}
	d.Size = sectors * 512 // sysfs counts 512-byte sectors whatever the device's
	if ro, _ := num("ro"); ro == 1 {
		d.ReadOnly = true
	}
	if p, ok := num("partition"); ok {
		d.Partition = int(p)
		real, err := filepath.EvalSymlinks(dir)
		if err != nil {
			return d, fmt.Errorf("resolve %s: %w", dir, err)
		}
		d.Disk = filepath.Base(filepath.Dir(real))
	}
	d.Network = strings.HasPrefix(d.Disk, "nbd")
	// SCSI type 5 is a CD/DVD drive; sr* are the kernel's CD-ROM names.
	if t, ok := num("device/type"); (ok && t == 5) || strings.HasPrefix(name, "sr") {
		d.CDROM = true
	}
	if dev, err := os.ReadFile(filepath.Join(dir, "dev")); err == nil && strings.HasPrefix(string(dev), "11:") {
		d.CDROM = true // major 11: the SCSI CD-ROM driver
	}
	return d, nil
}

// Runner runs cmd to its end and returns its exit code. In PID 1 it is the
// reaper's RunCmd: a plain cmd.Wait races with the reaper for the child's
// exit status, and a probe that lost the race once "failed" on a healthy
// disk.
type Runner func(ctx context.Context, cmd *exec.Cmd) (int, error)

// Blkid returns the probe that runs blkid's low-level probe (-p) through
// run: it reads the device itself rather than a cache, and also reports
// the GPT entry. Its output goes to a file, read once blkid has exited, so
// that none of it is lost to a copy still under way.
func Blkid(run Runner) Probe {
	return func(ctx context.Context, path string) (map[string]string, error) {
		out, err := os.CreateTemp("", "blkid-")
		if err != nil {
			return nil, fmt.Errorf("blkid %s: %w", path, err)
		}
		defer os.Remove(out.Name())
		defer out.Close()
		cmd := exec.Command("/sbin/blkid", "-p", "-o", "export", path)
		cmd.Stdout = out
		code, err := run(ctx, cmd)
		switch {
		case err != nil:
			return nil, fmt.Errorf("blkid %s: %w", path, err)
		case code == 2:
			return map[string]string{}, nil // nothing found on the device
		case code != 0:
			return nil, fmt.Errorf("blkid %s: exit status %d", path, code)
		}
		b, err := os.ReadFile(out.Name())
		if err != nil {
			return nil, fmt.Errorf("blkid %s: %w", path, err)
		}
		return ParseExport(string(b)), nil
	}
}

// ParseExport parses blkid's -o export output.
func ParseExport(s string) map[string]string {
	kv := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		if k, v, ok := strings.Cut(sc.Text(), "="); ok {
			kv[k] = unescape(v)
		}
	}
	return kv
}

// unescape undoes blkid's shell quoting of values (a backslash before
// spaces and other special characters).
func unescape(v string) string {
	var b strings.Builder
	esc := false
	for _, r := range v {
		if r == '\\' && !esc {
			esc = true
			continue
		}
		esc = false
		b.WriteRune(r)
	}
	return b.String()
}

// WaitNode waits until path exists or timeout passes: device nodes of USB
// disks and freshly written partitions appear some time after the kernel
// sees them.
func WaitNode(ctx context.Context, path string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := os.Stat(path)
		if err == nil || !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s did not appear within %v", path, timeout)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}
