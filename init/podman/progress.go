package podman

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

// pullMessage is one event of a pull in podman's compatible format
// (docker's jsonmessage), which, unlike the native one, tells each layer's
// progress.
type pullMessage struct {
	Status   string `json:"status"`
	ID       string `json:"id"`
	Progress *struct {
		Current int64 `json:"current"`
		Total   int64 `json:"total"`
	} `json:"progressDetail"`
	Error       string `json:"error"`
	ErrorDetail *struct {
		Message string `json:"message"`
	} `json:"errorDetail"`
	Message string `json:"message"` // an error before any progress
}

type layerProgress struct {
	start, printed time.Time
	current, total int64
	done           bool
}

// pullProgress prints a pull's progress from its events, in lines fit for
// a serial console and a log file (no bars, no escape codes): one when a
// layer starts, one when it ends with its size and rate, and one every
// `every` for a layer still downloading.
type pullProgress struct {
	logf   func(format string, args ...any)
	now    func() time.Time
	every  time.Duration
	layers map[string]*layerProgress
}

// read reads the events of r until its end, and returns the pull's error
// if it ends with one.
func (p *pullProgress) read(r io.Reader) error {
	dec := json.NewDecoder(r)
	for {
		var m pullMessage
		if err := dec.Decode(&m); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("read the pull's progress: %w", err)
		}
		if err := p.event(m); err != nil {
			return err
		}
	}
}

func mib(n int64) float64 { return float64(n) / (1 << 20) }

func (p *pullProgress) event(m pullMessage) error {
	switch {
	case m.ErrorDetail != nil && m.ErrorDetail.Message != "":
		return errors.New(m.ErrorDetail.Message)
	case m.Error != "":
		return errors.New(m.Error)
	case m.Message != "" && m.Status == "":
		return errors.New(m.Message)
	}
	now := p.now()
	l := p.layers[m.ID]
	switch m.Status {
	case "Pulling fs layer":
		if l == nil {
			p.layers[m.ID] = &layerProgress{start: now, printed: now}
			p.logf("Pulling layer %s", m.ID)
		}
	case "Downloading":
		if l == nil {
			l = &layerProgress{start: now, printed: now}
			p.layers[m.ID] = l
			p.logf("Pulling layer %s", m.ID)
		}
		if m.Progress != nil {
			l.current, l.total = m.Progress.Current, m.Progress.Total
		}
		if now.Sub(l.printed) >= p.every {
			l.printed = now
			p.logf("Pulling layer %s: %.1f of %.1f MiB (%.1f MiB/s)", m.ID, mib(l.current), mib(l.total), mib(l.current)/now.Sub(l.start).Seconds())
		}
	case "Download complete":
		// Also the last event, for the image itself: not a layer.
		if l == nil || l.done {
			return nil
		}
		l.done = true
		d := now.Sub(l.start).Seconds()
		if l.total > 0 {
			p.logf("Pulled layer %s: %.1f MiB in %.1f s (%.1f MiB/s)", m.ID, mib(l.total), d, mib(l.total)/max(d, 0.001))
		} else {
			p.logf("Pulled layer %s in %.1f s", m.ID, d)
		}
	case "Already exists":
		if l == nil || !l.done {
			p.layers[m.ID] = &layerProgress{done: true}
			p.logf("Layer %s is already in the cache", m.ID)
		}
	}
	return nil
}
