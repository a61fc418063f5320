package cache

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	diskfs "github.com/diskfs/go-diskfs"
	"github.com/diskfs/go-diskfs/partition/gpt"
	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/disks"
)

// Runner runs a command to its end and returns its exit code. In PID 1 it
// is the reaper's, which owns every child's exit status.
type Runner func(ctx context.Context, cmd *exec.Cmd) (int, error)

// nodeWait bounds the wait for a partition's device node after the kernel
// re-reads a partition table.
const nodeWait = 10 * time.Second

// Setup carries out plan and mounts the cache at dir. It returns the
// device it mounted and the warnings of what it had to repair.
func Setup(ctx context.Context, plan Plan, dir string, run Runner) (dev string, warnings []string, err error) {
	dev = plan.Device
	fstype := plan.FSType
	formatted := false
	switch plan.Action {
	case InRAM:
		return "", nil, nil
	case Repartition:
		if dev, err = partition(ctx, plan.Device); err != nil {
			return "", nil, err
		}
		fallthrough
	case Format:
		if err = format(ctx, dev, run); err != nil {
			return "", nil, err
		}
		fstype, formatted = "ext4", true
	}
	if fstype == "" {
		fstype = "ext4"
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", nil, err
	}
	err = unix.Mount(dev, dir, fstype, unix.MS_NOATIME, "")
	if err != nil && plan.Ours && !formatted && fstype == "ext4" {
		// The cache holds volumes too (persistent, fscrypt): repair it
		// if e2fsck can, before anything is lost.
		if ferr := fsck(ctx, dev, run); ferr == nil {
			if merr := unix.Mount(dev, dir, fstype, unix.MS_NOATIME, ""); merr == nil {
				return dev, append(warnings, fmt.Sprintf("the cache partition %s did not mount (%v): e2fsck repaired it", dev, err)), nil
			}
		} else {
			warnings = append(warnings, ferr.Error())
		}
	}
	if err != nil && plan.Ours && !formatted {
		// A cache that cannot be mounted must never block the run: it
		// only holds what the next pull brings back.
		warnings = append(warnings, fmt.Sprintf("cannot mount the cache partition %s (%v): reformatting it", dev, err))
		if err = format(ctx, dev, run); err != nil {
			return "", warnings, err
		}
		fstype = "ext4"
		err = unix.Mount(dev, dir, fstype, unix.MS_NOATIME, "")
	}
	if err != nil {
		return "", warnings, fmt.Errorf("mount cache %s on %s: %w", dev, dir, err)
	}
	return dev, warnings, nil
}

// partition writes a GPT with one partition spanning the disk, named
// after the cache, and returns the partition's device node.
func partition(ctx context.Context, diskPath string) (string, error) {
	if err := writeTable(diskPath); err != nil {
		return "", fmt.Errorf("partition %s: %w", diskPath, err)
	}
	part := PartitionPath(diskPath, 1)
	if err := disks.WaitNode(ctx, part, nodeWait); err != nil {
		return "", fmt.Errorf("partition %s: %w", diskPath, err)
	}
	return part, nil
}

// writeTable writes the cache's GPT: one partition, 1 MiB aligned, up to
// the backup GPT in the last 33 sectors. go-diskfs asks the kernel to
// re-read the table of a block device.
func writeTable(diskPath string) error {
	d, err := diskfs.Open(diskPath, diskfs.WithOpenMode(diskfs.ReadWriteExclusive))
	if err != nil {
		return err
	}
	defer d.Close()
	sector := d.LogicalBlocksize
	if sector <= 0 {
		sector = 512
	}
	start := uint64(1<<20) / uint64(sector)
	end := uint64(d.Size)/uint64(sector) - 34
	if end <= start {
		return fmt.Errorf("disk too small (%d bytes)", d.Size)
	}
	return d.Partition(&gpt.Table{
		LogicalSectorSize:  int(sector),
		PhysicalSectorSize: int(d.PhysicalBlocksize),
		ProtectiveMBR:      true,
		Partitions: []*gpt.Partition{{
			Index: 1, Start: start, End: end, Type: gpt.LinuxFilesystem, Name: Label,
		}},
	})
}

// PartitionPath names partition n of a disk as the kernel does: vda1, but
// nvme0n1p1 and mmcblk0p1 when the disk's name ends with a digit.
func PartitionPath(disk string, n int) string {
	if last := disk[len(disk)-1]; last >= '0' && last <= '9' {
		return fmt.Sprintf("%sp%d", disk, n)
	}
	return fmt.Sprintf("%s%d", disk, n)
}

// format makes the cache's ext4: with the encrypt feature that fscrypt
// volumes need, and no blocks reserved for root, who is the only user.
func format(ctx context.Context, dev string, run Runner) error {
	var out bytes.Buffer
	cmd := exec.Command("/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-O", "encrypt", "-L", Label, "-m", "0",
		"-E", "lazy_itable_init=1", dev)
	cmd.Stdout, cmd.Stderr = &out, &out
	code, err := run(ctx, cmd)
	if err == nil && code != 0 {
		err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(out.String()))
	}
	if err != nil {
		return fmt.Errorf("format %s: %w", dev, err)
	}
	return nil
}

// fsck repairs the ext4 file system on dev with e2fsck's automatic
// (preen) mode, which fixes what is safe to fix without a person; exit
// codes 1 and 2 say it corrected errors.
func fsck(ctx context.Context, dev string, run Runner) error {
	var out bytes.Buffer
	cmd := exec.Command("/sbin/e2fsck", "-p", dev)
	cmd.Stdout, cmd.Stderr = &out, &out
	code, err := run(ctx, cmd)
	if err == nil && code > 2 {
		err = fmt.Errorf("exit %d: %s", code, strings.TrimSpace(out.String()))
	}
	if err != nil {
		return fmt.Errorf("e2fsck -p %s could not repair it: %w", dev, err)
	}
	return nil
}

// Free returns the bytes available on the file system holding dir.
func Free(dir string) (int64, error) {
	var st unix.Statfs_t
	if err := unix.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return int64(st.Bavail) * st.Bsize, nil
}

// Unmount unmounts dir and everything mounted below it, deepest first, so
// that the cache is clean when the power goes. A file system that stays
// busy is remounted read-only, which flushes it, then detached.
func Unmount(dir string) error {
	points, err := mountsUnder("/proc/self/mountinfo", dir)
	if err != nil {
		return err
	}
	unix.Sync()
	var errs []error
	for _, p := range points {
		if err := unix.Unmount(p, 0); err != nil {
			if rerr := unix.Mount("", p, "", unix.MS_REMOUNT|unix.MS_RDONLY, ""); rerr != nil && p == dir {
				errs = append(errs, fmt.Errorf("unmount %s: %v; remount read-only: %w", p, err, rerr))
			}
			unix.Unmount(p, unix.MNT_DETACH)
		}
	}
	return errors.Join(errs...)
}

// mountsUnder lists the mount points at or below dir, deepest first.
func mountsUnder(mountinfo, dir string) ([]string, error) {
	f, err := os.Open(mountinfo)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		p := unescapeMount(fields[4])
		if p == dir || strings.HasPrefix(p, dir+"/") {
			out = append(out, p)
		}
	}
	sort.Slice(out, func(i, j int) bool { return strings.Count(out[i], "/") > strings.Count(out[j], "/") })
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return filepath.Clean(s)
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c byte
			if _, err := fmt.Sscanf(s[i+1:i+4], "%o", &c); err == nil {
				b.WriteByte(c)
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
