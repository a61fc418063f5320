package mirror

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/fsnotify/fsnotify"
)

// Debounce bounds when a change is pushed: once the directory has been
// quiet for Quiet, and never later than Max after the first change, so a
// file appended to all the time still moves.
type Debounce struct {
	Quiet, Max time.Duration
}

// Watch calls push each time files under dir change, debounced, until ctx
// ends. fsnotify watches one directory at a time: new directories are
// added as they appear. It returns ctx's end, or why the watch could not
// start.
func Watch(ctx context.Context, dir string, d Debounce, push func(context.Context)) error {
	w, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	defer w.Close()
	if err := addTree(w, dir); err != nil {
		return fmt.Errorf("watch %s: %w", dir, err)
	}
	var (
		quiet, max <-chan time.Time
		pending    bool
	)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events:
			if !ok {
				return errors.New("the watcher closed")
			}
			if strings.HasPrefix(filepath.Base(ev.Name), partPrefix) {
				continue // a pull's own files
			}
			if ev.Has(fsnotify.Create) {
				// A new directory: watch it and what it already holds.
				addTree(w, ev.Name)
			}
			if ev.Has(fsnotify.Chmod) && !ev.Has(fsnotify.Write) {
				// Reads change atimes, which fsnotify reports as
				// chmod: they change nothing to push. A real chmod is
				// pushed by the next change or the final sync.
				continue
			}
			quiet = time.After(d.Quiet)
			if !pending {
				pending = true
				max = time.After(d.Max)
			}
		case err := <-w.Errors:
			if err != nil {
				// An overflow loses events: push, to catch up.
				quiet = time.After(d.Quiet)
			}
		case <-quiet:
			pending, quiet, max = false, nil, nil
			push(ctx)
		case <-max:
			pending, quiet, max = false, nil, nil
			push(ctx)
		}
	}
}

// addTree watches dir and the directories under it.
func addTree(w *fsnotify.Watcher, dir string) error {
	return filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p == dir {
				return err
			}
			return nil
		}
		if d.IsDir() {
			return w.Add(p)
		}
		return nil
	})
}
