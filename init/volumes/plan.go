package volumes

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/filesystems"
)

const (
	cacheDir     = "/storage"
	tmpGraphRoot = "/var/lib/containers/storage" // on the tmpfs of init/mounts
	storageConf  = "/etc/containers/storage.conf"
	swapFile     = cacheDir + "/swapfile"
	// fscryptDir holds the directories of the fscrypt-encrypted volumes
	// on the cache: podman's own volume directories are made before b2c
	// could encrypt them.
	fscryptDir = cacheDir + "/b2c-fscrypt"
	// deviceWait bounds the wait for a named cache or swap device to
	// appear: USB disks show up a few seconds after the kernel starts.
	deviceWait = 10 * time.Second
)

// mountPlan is what the storage step mounts, decided from the command
// line alone.
type mountPlan struct {
	filesystems []filesystems.Mount // b2c.filesystem, mounted first
	// cacheFS is the b2c.filesystem bound on the cache's directory; when
	// empty, the cache is a device that cache.Choose picks by cacheMode.
	cacheFS   string
	cacheMode string
	// waitFor is the device node b2c.cache_device names, to wait for
	// before listing the disks.
	waitFor string
	// stores are podman's additional image stores; storesErr, when one
	// names no b2c.filesystem, fails the step once the cache is mounted.
	stores    []string
	storesErr error
}

// NeedsNetwork reports whether the storage reaches through the network: a
// b2c.nbd device, or a network file system. It is then set up once the
// network is.
func NeedsNetwork(cfg *cmdline.Config) bool {
	if len(cfg.NBDs) > 0 {
		return true
	}
	for _, fs := range cfg.Filesystems {
		if filesystems.Network(fs.Type) {
			return true
		}
	}
	return false
}

func planMounts(cfg *cmdline.Config) mountPlan {
	p := mountPlan{filesystems: filesystems.Plan("/", cfg.Filesystems)}
	names := map[string]bool{}
	for _, fs := range cfg.Filesystems {
		names[fs.Name] = true
	}
	switch mode := cfg.CacheDevice; {
	case names[mode]:
		p.cacheFS = mode
	default:
		p.cacheMode = mode
		if strings.HasPrefix(mode, "/dev/") {
			p.waitFor = mode
		}
	}
	for _, name := range cfg.AdditionalImageStores {
		if !names[name] {
			p.storesErr = fmt.Errorf("b2c.storage: additionalimagestores=%s names no b2c.filesystem", name)
			break
		}
		p.stores = append(p.stores, filesystems.Path("/", name))
	}
	return p
}

// graphRoot is where podman keeps its images and volumes: on the cache
// when there is one, else in RAM.
func graphRoot(cached bool) string {
	if cached {
		return filepath.Join(cacheDir, "containers/storage")
	}
	return tmpGraphRoot
}

// swapKind is what b2c.swap enables.
type swapKind int

const (
	noSwap     swapKind = iota
	swapDevice          // a partition or disk, formatted as swap if blank
	swapOnFile          // a file of the given size on the cache
)

// swapPlan is the swap b2c.swap asks for.
type swapPlan struct {
	kind       swapKind
	path       string
	size       int64 // of the file
	swappiness int   // -1: the kernel's
}

// planSwap chooses the swap. A swap file needs the cache: in RAM it would
// take the memory it is meant to free.
func planSwap(sw cmdline.Swap, cached bool) (swapPlan, error) {
	p := swapPlan{swappiness: sw.Swappiness}
	switch {
	case sw.Device != "":
		p.kind, p.path = swapDevice, sw.Device
	case sw.Size > 0 && !cached:
		return p, errors.New("b2c.swap: a swap file needs a cache partition (b2c.cache_device)")
	case sw.Size > 0:
		p.kind, p.path, p.size = swapOnFile, swapFile, sw.Size
	}
	return p, nil
}

// place is where a volume's files live.
type place int

const (
	inPodman     place = iota // podman's own volume directory
	onFilesystem              // a directory of a b2c.filesystem, which podman binds
	onFscrypt                 // an fscrypt-encrypted directory on the cache, which podman binds
)

// fscryptAction is what fscrypt does with a volume's directory.
type fscryptAction int

const (
	fscryptNone  fscryptAction = iota
	fscryptSetup               // encrypt a new directory, or unlock it
	fscryptReset               // wipe the directory and encrypt it anew
)

// volumePlan is how a b2c.volume is made.
type volumePlan struct {
	name       string
	place      place
	dir        string // the directory podman binds; "" for its own
	filesystem string // the b2c.filesystem of onFilesystem
	fscrypt    fscryptAction
	key        []byte // the fscrypt key, for fscryptSetup and fscryptReset
	expiration string
}

// planVolume decides where a volume lives and what fscrypt does with it.
// encrypted reports whether a directory is encrypted with fscrypt: a
// volume's encrypted directory without its key is an error, never wiped.
func planVolume(v cmdline.Volume, cached bool, encrypted func(dir string) bool) (volumePlan, error) {
	p := volumePlan{name: v.Name, expiration: v.Expiration}
	if p.expiration == "" {
		p.expiration = "never"
	}
	if v.Filesystem != "" {
		p.place, p.filesystem = onFilesystem, v.Filesystem
		p.dir = filepath.Join(filesystems.Path("/", v.Filesystem), v.Name)
		return p, nil
	}
	dir := filepath.Join(fscryptDir, v.Name)
	if v.FscryptKey == "" {
		if encrypted(dir) {
			return p, fmt.Errorf("volume %s is encrypted with fscrypt on the cache: it needs its fscrypt_key (its files are left as they are)", v.Name)
		}
		return p, nil
	}
	if !cached {
		return p, fmt.Errorf("volume %s: fscrypt_key needs a cache partition (b2c.cache_device)", v.Name)
	}
	key, err := cmdline.FscryptKey(v.FscryptKey)
	if err != nil {
		return p, fmt.Errorf("volume %s: %w", v.Name, err)
	}
	p.place, p.dir, p.key, p.fscrypt = onFscrypt, dir, key, fscryptSetup
	if v.FscryptReset {
		p.fscrypt = fscryptReset
	}
	return p, nil
}
