package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/cache"
	"github.com/b2c-dev/b2c/init/disks"
	"github.com/b2c-dev/b2c/init/filesystems"
	"github.com/b2c-dev/b2c/init/podman"
	"github.com/b2c-dev/b2c/init/swap"
)

const (
	cacheDir     = "/storage"
	tmpGraphRoot = "/var/lib/containers/storage" // on the tmpfs of init/mounts
	storageConf  = "/etc/containers/storage.conf"
	swapFile     = cacheDir + "/swapfile"
	// deviceWait bounds the wait for a named cache device to appear: USB
	// disks show up a few seconds after the kernel starts.
	deviceWait = 10 * time.Second
)

// storageState is what the storage step set up, for the end of the run.
type storageState struct {
	cache     string // the cache's device (or file system name); empty: in RAM
	graphRoot string
	swap      string // the swap file or device enabled
}

// mountStorage mounts the named file systems and the cache, points
// podman's storage at it, and enables swap. Only a file system that does
// not mount fails the run: without the cache b2c works, from RAM.
func (a *agent) mountStorage(ctx context.Context) error {
	con, cfg := a.con, a.cfg
	st := &a.storage
	st.graphRoot = tmpGraphRoot
	names := map[string]bool{}
	for _, fs := range cfg.Filesystems {
		names[fs.Name] = true
	}
	if err := filesystems.Apply(ctx, filesystems.Plan("/", cfg.Filesystems)); err != nil {
		a.status.Fail("mount_cache_partition")
		return fmt.Errorf("b2c.filesystem: %w", err)
	}

	switch mode := cfg.CacheDevice; {
	case names[mode]:
		if err := bind(filesystems.Path("/", mode), cacheDir); err != nil {
			con.Warnf("cache on the file system %s: %v: images and volumes live in RAM", mode, err)
		} else {
			st.cache = mode
		}
	default:
		if strings.HasPrefix(mode, "/dev/") {
			if err := disks.WaitNode(ctx, mode, deviceWait); err != nil {
				con.Warnf("cache device: %v", err)
			}
		}
		devs, err := disks.List(ctx, "/sys", "/dev", disks.Blkid)
		if err != nil {
			con.Warnf("%v", err)
		}
		plan := cache.Choose(mode, devs)
		for _, n := range plan.Notes {
			con.Logf("%s", n)
		}
		for _, w := range plan.Warnings {
			con.Warnf("%s", w)
		}
		dev, warnings, err := cache.Setup(ctx, plan, cacheDir, a.rp.RunCmd)
		for _, w := range warnings {
			con.Warnf("%s", w)
		}
		if err != nil {
			con.Warnf("cannot set up the cache partition: %v", err)
		}
		st.cache = dev
	}
	if st.cache == "" {
		con.Logf("No cache partition: images and volumes live in RAM")
	} else {
		st.graphRoot = filepath.Join(cacheDir, "containers/storage")
		if err := os.MkdirAll(st.graphRoot, 0o700); err != nil {
			con.Warnf("%v", err)
		}
		os.Symlink(cacheDir, "/container")
		free, _ := cache.Free(cacheDir)
		con.Logf("Cache: %s mounted on %s (%d MiB free)", st.cache, cacheDir, free>>20)
	}

	var stores []string
	for _, name := range cfg.AdditionalImageStores {
		if !names[name] {
			a.status.Fail("mount_cache_partition")
			return fmt.Errorf("b2c.storage: additionalimagestores=%s names no b2c.filesystem", name)
		}
		stores = append(stores, filesystems.Path("/", name))
	}
	// image_copy_tmp_dir="storage" stages pulls (and the service's auth
	// files) in graphroot/tmp: on the cache, not in RAM, when there is one.
	if err := os.MkdirAll(filepath.Join(st.graphRoot, "tmp"), 0o700); err != nil {
		con.Warnf("%v", err)
	}
	if err := os.WriteFile(storageConf, []byte(cache.StorageConf(st.graphRoot, stores)), 0o644); err != nil {
		con.Warnf("write %s: %v", storageConf, err)
	}

	a.enableSwap(ctx)
	return nil
}

// enableSwap applies b2c.swap. Swap is a convenience: failing to enable it
// is a warning.
func (a *agent) enableSwap(ctx context.Context) {
	con, sw, st := a.con, a.cfg.Swap, &a.storage
	var err error
	switch {
	case sw.Device != "":
		if err = disks.WaitNode(ctx, sw.Device, deviceWait); err == nil {
			kv, perr := disks.Blkid(ctx, sw.Device)
			switch {
			case perr != nil:
				err = perr
			case kv["TYPE"] != "" && kv["TYPE"] != "swap":
				err = fmt.Errorf("%s holds a %s file system: not using it as swap", sw.Device, kv["TYPE"])
			default:
				err = swap.Device(sw.Device, kv["TYPE"] == "")
			}
		}
		if err == nil {
			st.swap = sw.Device
		}
	case sw.Size > 0 && st.cache == "":
		err = errors.New("b2c.swap: a swap file needs a cache partition (b2c.cache_device)")
	case sw.Size > 0:
		if err = swap.File(swapFile, sw.Size); err == nil {
			st.swap = swapFile
		}
	default:
		return
	}
	if err != nil {
		con.Warnf("%v", err)
		return
	}
	con.Logf("Swap: %s enabled", st.swap)
	if sw.Swappiness >= 0 {
		if err := swap.SetSwappiness(sw.Swappiness); err != nil {
			con.Warnf("%v", err)
		}
	}
}

// setupVolumes removes the volumes a previous run left to expire, then
// creates the b2c.volume volumes.
func (a *agent) setupVolumes(ctx context.Context, engine *podman.Engine) error {
	if removed, err := engine.RemoveExpired(ctx); err != nil {
		a.con.Warnf("%v", err)
	} else if len(removed) > 0 {
		a.con.Logf("Removed the expired volumes of an earlier run: %s", strings.Join(removed, ", "))
	}
	for _, v := range a.cfg.Volumes {
		dir, err := a.volumeDir(v)
		if err != nil {
			return err
		}
		if v.Filesystem != "" {
			dir = filepath.Join(filesystems.Path("/", v.Filesystem), v.Name)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return fmt.Errorf("volume %s on the file system %s: %w", v.Name, v.Filesystem, err)
			}
		}
		exp := v.Expiration
		if exp == "" {
			exp = "never"
		}
		if err := engine.EnsureVolume(ctx, v.Name, dir, exp); err != nil {
			return err
		}
	}
	return nil
}

// unmountStorage stops podman, disables swap and unmounts the cache and
// the named file systems, so that nothing is lost when the power goes.
func (a *agent) unmountStorage() {
	con, st := a.con, &a.storage
	a.stopPodman(5 * time.Second)
	if st.swap != "" {
		if err := swap.Off(st.swap); err != nil {
			con.Warnf("%v", err)
		}
	}
	unix.Sync()
	if st.cache != "" {
		if err := cache.Unmount(cacheDir); err != nil {
			con.Warnf("%v", err)
		} else {
			con.Logf("Cache %s unmounted", st.cache)
		}
	}
	if err := cache.Unmount(filesystems.Dir); err != nil {
		con.Warnf("%v", err)
	}
}

func bind(src, dst string) error {
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	return unix.Mount(src, dst, "", unix.MS_BIND, "")
}
