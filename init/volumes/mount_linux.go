package volumes

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/cache"
	"github.com/b2c-dev/b2c/init/disks"
	"github.com/b2c-dev/b2c/init/filesystems"
	"github.com/b2c-dev/b2c/init/fscrypt"
	"github.com/b2c-dev/b2c/init/swap"
)

// Mount connects the network block devices, mounts the named file systems
// and the cache, points podman's storage at it, and enables swap. Only a
// device that does not connect, a file system that does not mount, or an
// additional image store that names none, is an error: without the cache
// b2c works, from RAM.
func (s *Storage) Mount(ctx context.Context) error {
	con := s.con
	p := planMounts(s.cfg)
	s.graphRoot = tmpGraphRoot
	if err := s.connectNBDs(ctx); err != nil {
		return err
	}
	if err := filesystems.Apply(ctx, p.filesystems); err != nil {
		return fmt.Errorf("b2c.filesystem: %w", err)
	}
	s.cache = s.mountCache(ctx, p)
	if s.cache == "" {
		con.Logf("No cache partition: images and volumes live in RAM")
	} else {
		s.graphRoot = graphRoot(true)
		if err := os.MkdirAll(s.graphRoot, 0o700); err != nil {
			con.Warnf("%v", err)
		}
		os.Symlink(cacheDir, "/container")
		free, _ := cache.Free(cacheDir)
		con.Logf("Cache: %s mounted on %s (%d MiB free)", s.cache, cacheDir, free>>20)
	}
	if p.storesErr != nil {
		return p.storesErr
	}
	// image_copy_tmp_dir="storage" stages pulls (and the service's auth
	// files) in graphroot/tmp: on the cache, not in RAM, when there is one.
	if err := os.MkdirAll(filepath.Join(s.graphRoot, "tmp"), 0o700); err != nil {
		con.Warnf("%v", err)
	}
	if err := os.WriteFile(storageConf, []byte(cache.StorageConf(s.graphRoot, p.stores)), 0o644); err != nil {
		con.Warnf("write %s: %v", storageConf, err)
	}
	s.enableSwap(ctx)
	return nil
}

// mountCache mounts the cache on cacheDir and returns its device (or file
// system name), or "" when images and volumes live in RAM.
func (s *Storage) mountCache(ctx context.Context, p mountPlan) string {
	con := s.con
	if p.cacheFS != "" {
		if err := bind(filesystems.Path("/", p.cacheFS), cacheDir); err != nil {
			con.Warnf("cache on the file system %s: %v: images and volumes live in RAM", p.cacheFS, err)
			return ""
		}
		return p.cacheFS
	}
	if p.waitFor != "" {
		if err := disks.WaitNode(ctx, p.waitFor, deviceWait); err != nil {
			con.Warnf("cache device: %v", err)
		}
	}
	devs, err := disks.List(ctx, "/sys", "/dev", disks.Blkid(s.run))
	if err != nil {
		con.Warnf("%v", err)
	}
	plan := cache.Choose(p.cacheMode, devs)
	for _, n := range plan.Notes {
		con.Logf("%s", n)
	}
	for _, w := range plan.Warnings {
		con.Warnf("%s", w)
	}
	dev, warnings, err := cache.Setup(ctx, plan, cacheDir, s.run)
	for _, w := range warnings {
		con.Warnf("%s", w)
	}
	if err != nil {
		con.Warnf("cannot set up the cache partition: %v", err)
	}
	return dev
}

// enableSwap applies b2c.swap. Swap is a convenience: failing to enable it
// is a warning.
func (s *Storage) enableSwap(ctx context.Context) {
	p, err := planSwap(s.cfg.Swap, s.cache != "")
	switch {
	case err != nil:
	case p.kind == swapDevice:
		err = swapOnDevice(ctx, p.path, s.run)
	case p.kind == swapOnFile:
		err = swap.File(p.path, p.size)
	default:
		return
	}
	if err != nil {
		s.con.Warnf("%v", err)
		return
	}
	s.swap = p.path
	s.con.Logf("Swap: %s enabled", s.swap)
	if p.swappiness >= 0 {
		if err := swap.SetSwappiness(p.swappiness); err != nil {
			s.con.Warnf("%v", err)
		}
	}
}

// swapOnDevice enables swap on a device, formatting it when blank, never
// over a file system or a partition table (b2c.swap=/dev/sdX on a whole
// disk would write its header over the table).
func swapOnDevice(ctx context.Context, dev string, run disks.Runner) error {
	if err := disks.WaitNode(ctx, dev, deviceWait); err != nil {
		return err
	}
	kv, err := disks.Blkid(run)(ctx, dev)
	switch {
	case err != nil:
		return err
	case kv["PTTYPE"] != "":
		return fmt.Errorf("%s holds a %s partition table: not using it as swap (name one of its partitions)", dev, kv["PTTYPE"])
	case kv["TYPE"] != "" && kv["TYPE"] != "swap":
		return fmt.Errorf("%s holds a %s file system: not using it as swap", dev, kv["TYPE"])
	}
	return swap.Device(dev, kv["TYPE"] == "")
}

// Unmount removes the fscrypt keys from the kernel, disables swap and
// unmounts the cache and the named file systems, so that nothing is lost
// when the power goes. podman's service, which keeps files open on the
// cache, must have stopped before.
func (s *Storage) Unmount() {
	con := s.con
	if s.swap != "" {
		if err := swap.Off(s.swap); err != nil {
			con.Warnf("%v", err)
		}
	}
	unix.Sync()
	// The keys go before the cache: their directories lock again, and
	// the key of a cache that stays busy leaves the kernel all the same.
	for _, id := range s.keys {
		if err := fscrypt.RemoveKey(cacheDir, id); err != nil {
			con.Warnf("%v", err)
		}
	}
	s.keys = nil
	if s.cache != "" {
		if err := cache.Unmount(cacheDir); err != nil {
			con.Warnf("%v", err)
		} else {
			con.Logf("Cache %s unmounted", s.cache)
		}
	}
	if err := cache.Unmount(filesystems.Dir); err != nil {
		con.Warnf("%v", err)
	}
	s.disconnectNBDs()
}

func bind(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return unix.Mount(src, dst, "", unix.MS_BIND, "")
}
