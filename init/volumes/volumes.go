// Package volumes sets up where a run keeps its data, and takes it down
// at the end: the named file systems of b2c.filesystem, the cache that
// holds podman's images and volumes (a disk partition, a b2c.filesystem,
// or nothing: RAM), swap, the b2c.volume volumes (podman's own, a
// directory of a b2c.filesystem, or a directory encrypted with fscrypt on
// the cache) and their S3 mirrors, pulled and pushed at the moments of
// the run.
//
// plan.go decides from the command line alone what is mounted, where each
// volume lives and what fscrypt does with it; the rest applies that plan.
// Only a file system that does not mount, or a volume that cannot be made,
// fails the run: without the cache or swap b2c works from RAM.
package volumes

import (
	"context"
	"os/exec"
	"sync"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/fscrypt"
	"github.com/b2c-dev/b2c/init/mirror"
	"github.com/b2c-dev/b2c/init/nbd"
)

// Storage is the storage of one run, from Mount to Unmount.
type Storage struct {
	con *console.Console
	cfg *cmdline.Config
	run func(context.Context, *exec.Cmd) (int, error)

	cache     string // the cache's device (or file system name); empty: in RAM
	graphRoot string
	swap      string               // the swap file or device enabled
	keys      []fscrypt.Identifier // added to the cache's keyring, removed at Unmount
	nbds      []*nbd.Device        // the b2c.nbd devices, connected by Mount
	nbdStop   chan struct{}        // closed when Unmount disconnects them

	vols    []*mirror.Volume // the volumes that mirror a bucket
	stop    context.CancelFunc
	watches sync.WaitGroup

	// Progress, if set, is called after each file a mirror moved (the
	// watchdog's sign of progress of a transfer).
	Progress func()
	// Lost, if set, ends the run with an ERROR: a b2c.nbd device lost
	// its server. Unset, the ERROR is printed and the run goes on.
	Lost func(msg string)
}

// New returns the storage of the run that cfg describes. cfg is read when
// each step runs, so that the options fetched from b2c.extra_args_url
// count. run runs a command to its end (the reaper's RunCmd, in PID 1).
func New(con *console.Console, cfg *cmdline.Config, run func(context.Context, *exec.Cmd) (int, error)) *Storage {
	return &Storage{con: con, cfg: cfg, run: run, nbdStop: make(chan struct{})}
}

// GraphRoot is where podman keeps its images, once Mount has run.
func (s *Storage) GraphRoot() string { return s.graphRoot }

// Cached reports whether a cache is mounted: images and volumes then
// outlive the run.
func (s *Storage) Cached() bool { return s.cache != "" }
