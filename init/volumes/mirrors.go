package volumes

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/fetch"
	"github.com/b2c-dev/b2c/init/mirror"
)

// setupMirrors makes the S3 clients and the mirrors of the volumes that
// have one.
func (s *Storage) setupMirrors(ctx context.Context, p Podman) error {
	cfg := s.cfg
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
		from, to, err := targets(v, clients)
		if err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		dir, err := p.VolumeDir(ctx, v.Name)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("volume %s: %w", v.Name, err)
		}
		m := &mirror.Mirror{Dir: dir, Opts: mirror.Options{Overwrite: v.Overwrite, Remove: v.Remove, Preserve: v.Preserve, Exclude: v.Exclude}, Progress: s.Progress}
		s.vols = append(s.vols, mirror.NewVolume(v.Name, m, from, to, v.PullOn, v.PushOn))
	}
	return nil
}

// targets returns the buckets a volume pulls from and pushes to (nil:
// none), with its SSE-C key.
func targets(v cmdline.Volume, clients map[string]*mirror.Client) (from, to *mirror.Target, err error) {
	if v.PullFrom != "" {
		if from, err = mirror.Resolve(v.PullFrom, clients); err != nil {
			return nil, nil, err
		}
	}
	if v.PushTo != "" {
		if to, err = mirror.Resolve(v.PushTo, clients); err != nil {
			return nil, nil, err
		}
	}
	if v.EncryptKey != "" {
		sse, err := mirror.SSECKey(v.EncryptKey)
		if err != nil {
			return nil, nil, err
		}
		for _, t := range []*mirror.Target{from, to} {
			if t != nil {
				t.SSE = sse
			}
		}
	}
	return from, to, nil
}

// At runs the pulls and pushes of a moment (mirror.PipelineStart, ...),
// and returns the first error, after trying them all. Each failure is an
// ERROR line naming the volume and the bucket. The push_on=changes volumes
// are watched from a pipeline_start whose pulls all succeeded to the
// pipeline_end, whose pushes come after the watches stopped. It
// implements pipeline.Hooks.
func (s *Storage) At(ctx context.Context, moment string) error {
	if moment == mirror.PipelineEnd {
		s.stopWatching()
	}
	first := s.transfer(ctx, moment)
	if moment == mirror.PipelineStart && first == nil {
		s.watch(ctx)
	}
	return first
}

func (s *Storage) transfer(ctx context.Context, moment string) error {
	var first error
	for _, st := range mirror.StepsAt(s.vols, moment) {
		if err := s.step(ctx, st); err != nil {
			s.con.Errorf("%v", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

func (s *Storage) step(ctx context.Context, st mirror.Step) error {
	start := time.Now()
	var res mirror.Result
	var err error
	verb, dir := "Pulled", "from"
	if st.Op == mirror.Pull {
		res, err = st.Volume.Mirror.Pull(ctx, st.Target)
	} else {
		verb, dir = "Pushed", "to"
		if st.Volume.Mirror.Opts.Remove && !st.Volume.Mirror.PushDeletes() {
			s.con.Warnf("volume %s: a pull failed in this run, so this push to %s deletes nothing (remove is ignored)", st.Volume.Name, st.Target)
		}
		res, err = st.Volume.Mirror.Push(ctx, st.Target)
	}
	if len(res.Conflicts) > 0 {
		s.con.Warnf("volume %s: %d files differ %s %s and were left alone (no overwrite): %s",
			st.Volume.Name, len(res.Conflicts), dir, st.Target, list(res.Conflicts, 5))
	}
	if err != nil {
		return fmt.Errorf("%s: %w", st, err)
	}
	if res.Files > 0 || res.Deleted > 0 {
		s.con.Logf("Volume %s: %s %d files (%.1f MiB) %s %s in %.2f s, deleted %d",
			st.Volume.Name, verb, res.Files, float64(res.Bytes)/(1<<20), dir, st.Target, time.Since(start).Seconds(), res.Deleted)
	}
	return nil
}

// list shows the first n of s.
func list(s []string, n int) string {
	if len(s) > n {
		return strings.Join(s[:n], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

// watch pushes the changes of the push_on=changes volumes until
// stopWatching. A failed push there is a warning: the next one, or the
// final push at the pipeline's end, tries again.
func (s *Storage) watch(ctx context.Context) {
	ctx, s.stop = context.WithCancel(ctx)
	// A change is pushed once the volume has been quiet for a second, or
	// 10 s after it began for files written all the time.
	debounce := mirror.Debounce{Quiet: time.Second, Max: 10 * time.Second}
	for _, v := range s.vols {
		if !v.Watches() {
			continue
		}
		st := mirror.Step{Volume: v, Op: mirror.Push, Target: *v.To}
		s.watches.Add(1)
		go func() {
			defer s.watches.Done()
			err := mirror.Watch(ctx, v.Mirror.Dir, debounce, func(ctx context.Context) {
				if err := s.step(ctx, st); err != nil && ctx.Err() == nil {
					s.con.Warnf("%v", err)
				}
			})
			if err != nil && ctx.Err() == nil {
				s.con.Warnf("volume %s: %v: its changes are pushed at the pipeline's end only", v.Name, err)
			}
		}()
	}
}

// stopWatching stops the watches of watch, and waits for a push under way.
func (s *Storage) stopWatching() {
	if s.stop != nil {
		s.stop()
		s.watches.Wait()
	}
}
