package filesystems

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Watcher checks that the servers of the network file systems answer. A
// hard NFS mount makes whatever reads it wait for a server that went
// away, without an error: a lab would see a silent machine.
type Watcher struct {
	Every time.Duration // between two probes of a file system
	Warn  time.Duration // a probe unanswered this long is a warning
	Lost  time.Duration // and this long, the server is lost
	// Probe asks the file system mounted on a path for something only
	// its server knows (statfs); it blocks while the server is away.
	Probe func(path string) error
	Logf  func(format string, args ...any)
	Warnf func(format string, args ...any)
	// Gone is called once, with the ERROR to end the run with, when a
	// server has not answered for Lost.
	Gone func(msg string)
}

// Run watches the network file systems among mounts until ctx ends.
func (w Watcher) Run(ctx context.Context, mounts []Mount) {
	for _, m := range mounts {
		if Network(m.Type) {
			go w.watch(ctx, m)
		}
	}
}

func (w Watcher) watch(ctx context.Context, m Mount) {
	name := m.Target[strings.LastIndex(m.Target, "/")+1:]
	tick := time.NewTicker(w.Every)
	defer tick.Stop()
	for {
		done := make(chan struct{})
		start := time.Now()
		// The probe's goroutine stays blocked as long as the server is
		// away; there is one at a time per file system.
		go func() { w.Probe(m.Target); close(done) }()
		warned := false
	wait:
		for {
			select {
			case <-ctx.Done():
				return
			case <-done:
				if warned {
					w.Logf("b2c.filesystem %s: the server of %s answers again", name, m.Source)
				}
				break wait
			case <-tick.C:
				switch away := time.Since(start); {
				case away >= w.Lost:
					w.Gone(fmt.Sprintf("b2c.filesystem %s: the server of %s has not answered for %s, ending the run", name, m.Source, w.Lost))
					return
				case away >= w.Warn && !warned:
					w.Warnf("b2c.filesystem %s: the server of %s has not answered for %s; what reads or writes it waits (the run ends if it does not answer within %s)", name, m.Source, w.Warn, w.Lost)
					warned = true
				}
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
