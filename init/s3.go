package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/fetch"
	"github.com/b2c-dev/b2c/init/fscrypt"
	"github.com/b2c-dev/b2c/init/mirror"
	"github.com/b2c-dev/b2c/init/pipeline"
	"github.com/b2c-dev/b2c/init/podman"
)

// fscryptDir holds the directories of the fscrypt-encrypted volumes on
// the cache: podman's own volume directories are made before b2c could
// encrypt them.
const fscryptDir = cacheDir + "/b2c-fscrypt"

// mirrors is the S3 side of the volumes, for the moments of the run.
type mirrors struct {
	vols    []*mirror.Volume
	stop    context.CancelFunc
	watches sync.WaitGroup
}

// volumeDir returns the directory of a b2c.volume that podman binds, ""
// for podman's own: on a b2c.filesystem, or encrypted on the cache. An
// encrypted directory without its key is an error, never wiped.
func (a *agent) volumeDir(v cmdline.Volume) (string, error) {
	if v.Filesystem != "" {
		return "", nil // storage.go binds it
	}
	dir := filepath.Join(fscryptDir, v.Name)
	if v.FscryptKey == "" {
		if _, encrypted, err := fscrypt.Policy(dir); err == nil && encrypted {
			return "", fmt.Errorf("volume %s is encrypted with fscrypt on the cache: it needs its fscrypt_key (its files are left as they are)", v.Name)
		}
		return "", nil
	}
	if a.storage.cache == "" {
		return "", fmt.Errorf("volume %s: fscrypt_key needs a cache partition (b2c.cache_device)", v.Name)
	}
	key, err := cmdline.FscryptKey(v.FscryptKey)
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", v.Name, err)
	}
	if err := os.MkdirAll(fscryptDir, 0o700); err != nil {
		return "", err
	}
	id, created, err := fscrypt.Setup(cacheDir, dir, key, v.FscryptReset)
	clear(key)
	if errors.Is(err, fscrypt.ErrWrongKey) {
		return "", fmt.Errorf("volume %s: its directory on the cache is encrypted with another key; fscrypt_reset_key wipes it and uses the new one", v.Name)
	}
	if err != nil {
		return "", fmt.Errorf("volume %s: %w", v.Name, err)
	}
	switch {
	case v.FscryptReset:
		a.con.Logf("Volume %s: wiped and encrypted anew on the cache (fscrypt key %s)", v.Name, id)
	case created:
		a.con.Logf("Volume %s: encrypted on the cache (fscrypt key %s)", v.Name, id)
	default:
		a.con.Logf("Volume %s: unlocked on the cache (fscrypt key %s)", v.Name, id)
	}
	return dir, nil
}

// setupMirrors makes the S3 clients and the mirrors of the volumes that
// have one.
func (a *agent) setupMirrors(ctx context.Context, engine *podman.Engine) error {
	cfg := a.cfg
	tr := fetch.Client(cfg.Proxy, 0).Transport
	clients := map[string]*mirror.Client{}
	for _, m := range cfg.Minios {
		c, err := mirror.NewClient(m.Alias, m.URL, m.AccessKey, m.SecretKey, tr)
		if err != nil {
			return err
		}
		clients[m.Alias] = c
	}
	for _, v := range cfg.Volumes {
		if v.PullFrom == "" && v.PushTo == "" {
			continue
		}
		var from, to *mirror.Target
		var err error
		if v.PullFrom != "" {
			if from, err = mirror.Resolve(v.PullFrom, clients); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		if v.PushTo != "" {
			if to, err = mirror.Resolve(v.PushTo, clients); err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
		}
		if v.EncryptKey != "" {
			sse, err := mirror.SSECKey(v.EncryptKey)
			if err != nil {
				return fmt.Errorf("volume %s: %w", v.Name, err)
			}
			for _, t := range []*mirror.Target{from, to} {
				if t != nil {
					t.SSE = sse
				}
			}
		}
		dir, err := engine.VolumeDir(ctx, v.Name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		m := &mirror.Mirror{Dir: dir, Opts: mirror.Options{Overwrite: v.Overwrite, Remove: v.Remove, Preserve: v.Preserve, Exclude: v.Exclude}}
		a.mirrors.vols = append(a.mirrors.vols, mirror.NewVolume(v.Name, m, from, to, v.PullOn, v.PushOn))
	}
	return nil
}

// mirrorAt runs the pulls and pushes of a moment, and returns the first
// error, after trying them all. Each failure is an ERROR line naming the
// volume and the bucket.
func (a *agent) mirrorAt(ctx context.Context, moment string) error {
	var first error
	for _, s := range mirror.StepsAt(a.mirrors.vols, moment) {
		if err := a.mirrorStep(ctx, s); err != nil {
			a.con.Errorf("%v", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (a *agent) mirrorStep(ctx context.Context, s mirror.Step) error {
	start := time.Now()
	var res mirror.Result
	var err error
	verb, dir := "Pulled", "from"
	if s.Op == mirror.Pull {
		res, err = s.Volume.Mirror.Pull(ctx, s.Target)
	} else {
		verb, dir = "Pushed", "to"
		res, err = s.Volume.Mirror.Push(ctx, s.Target)
	}
	if len(res.Conflicts) > 0 {
		a.con.Warnf("volume %s: %d files differ %s %s and were left alone (no overwrite): %s",
			s.Volume.Name, len(res.Conflicts), dir, s.Target, list(res.Conflicts, 5))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", s, err)
	}
	if res.Files > 0 || res.Deleted > 0 {
		a.con.Logf("Volume %s: %s %d files (%.1f MiB) %s %s in %.2f s, deleted %d",
			s.Volume.Name, verb, res.Files, float64(res.Bytes)/(1<<20), dir, s.Target, time.Since(start).Seconds(), res.Deleted)
	}
	return nil
}

func list(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

// startWatches pushes the changes of the push_on=changes volumes until
// stopWatches. A failed push there is a warning: the next one, or the
// final push at the pipeline's end, tries again.
func (a *agent) startWatches(ctx context.Context) {
	ctx, a.mirrors.stop = context.WithCancel(ctx)
	// A change is pushed once the volume has been quiet for a second, or
	// 10 s after it began for files written all the time.
	debounce := mirror.Debounce{Quiet: time.Second, Max: 10 * time.Second}
	for _, v := range a.mirrors.vols {
		if !v.Watches() {
			continue
		}
		step := mirror.Step{Volume: v, Op: mirror.Push, Target: *v.To}
		a.mirrors.watches.Add(1)
		go func() {
			defer a.mirrors.watches.Done()
			err := mirror.Watch(ctx, v.Mirror.Dir, debounce, func(ctx context.Context) {
				if err := a.mirrorStep(ctx, step); err != nil && ctx.Err() == nil {
					a.con.Warnf("%v", err)
				}
			})
			if err != nil && ctx.Err() == nil {
				a.con.Warnf("volume %s: %v: its changes are pushed at the pipeline's end only", v.Name, err)
			}
		}()
	}
}

func (a *agent) stopWatches() {
	if a.mirrors.stop != nil {
		a.mirrors.stop()
		a.mirrors.watches.Wait()
	}
}

// momentEngine runs the container_start and container_end steps around
// each container of the pipeline. A failed pull at the start fails the
// container without running it; a failed push at the end fails it too
// (the step printed its ERROR).
type momentEngine struct {
	pipeline.Engine
	at func(ctx context.Context, moment string) error
}

func (m momentEngine) Run(ctx context.Context, c cmdline.Container, env []string) (int, error) {
	if err := m.at(ctx, mirror.ContainerStart); err != nil {
		return pipeline.ExitEngine, err
	}
	code, err := m.Engine.Run(ctx, c, env)
	if perr := m.at(ctx, mirror.ContainerEnd); perr != nil && code == 0 {
		code = 1
	}
	return code, err
}
