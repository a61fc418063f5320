package filesystems

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestWatcher: a server that stops answering gives a warning, then the
// ERROR that ends the run; one that answers again in between is back; a
// local file system is never probed.
func TestWatcher(t *testing.T) {
	for _, tc := range []struct {
		name string
		away time.Duration // how long the server is away, from the 3rd probe
		want []string
	}{
		{"answers", 0, nil},
		{"back", 150 * time.Millisecond, []string{"WARNING: b2c.filesystem store: the server of 10.0.2.2:/export has not answered for 100ms; what reads or writes it waits (the run ends if it does not answer within 300ms)",
			"b2c.filesystem store: the server of 10.0.2.2:/export answers again"}},
		{"gone", time.Hour, []string{"WARNING: b2c.filesystem store: the server of 10.0.2.2:/export has not answered for 100ms; what reads or writes it waits (the run ends if it does not answer within 300ms)",
			"ERROR: b2c.filesystem store: the server of 10.0.2.2:/export has not answered for 300ms, ending the run"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			var got []string
			var probes int
			gone := make(chan struct{})
			say := func(prefix string) func(string, ...any) {
				return func(f string, a ...any) {
					mu.Lock()
					defer mu.Unlock()
					got = append(got, prefix+fmt.Sprintf(f, a...))
				}
			}
			w := Watcher{
				Every: 10 * time.Millisecond, Warn: 100 * time.Millisecond, Lost: 300 * time.Millisecond,
				Probe: func(path string) error {
					mu.Lock()
					probes++
					n := probes
					mu.Unlock()
					if path != "/mnt/store" {
						t.Errorf("probed %s", path)
					}
					if n == 3 {
						time.Sleep(tc.away)
					}
					return nil
				},
				Logf: say(""), Warnf: say("WARNING: "),
				Gone: func(msg string) { say("ERROR: ")("%s", msg); close(gone) },
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			w.Run(ctx, []Mount{
				{Source: "/dev/vda1", Target: "/mnt/data", Type: "ext4"},
				{Source: "10.0.2.2:/export", Target: "/mnt/store", Type: "nfs"},
			})
			select {
			case <-gone:
			case <-time.After(tc.away + time.Second):
			}
			cancel()
			mu.Lock()
			defer mu.Unlock()
			if strings.Join(got, "\n") != strings.Join(tc.want, "\n") {
				t.Errorf("said\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}
