package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/console"
)

// TestRun checks the rules of the step list: what a failure skips, where
// a step's error is printed, and the name that fails the run.
func TestRun(t *testing.T) {
	var a *agent // the agent under test, whose console the steps print on
	say := func(line string, err error) func(context.Context) error {
		return func(context.Context) error {
			if line != "" {
				a.con.Logf("%s", line)
			}
			return err
		}
	}
	no := func() bool { return false }
	tests := []struct {
		name     string
		steps    []step
		want     string // the console, one line each, stamps and markers simplified
		wantCode int
		wantBy   string
	}{
		{name: "all run, in order",
			steps: []step{{do: say("one", nil)}, {section: "s", header: "Two", do: say("two", nil)}},
			want:  "one|<s Two|two|s>"},
		{name: "a warning goes on, in its section",
			steps: []step{{section: "s", header: "S", do: say("", errors.New("no keymap"))}, {do: say("next", nil)}},
			want:  "<s S|WARNING: no keymap|s>|next"},
		{name: "a failure skips the rest but always",
			steps: []step{
				{section: "s", header: "S", do: say("", errors.New("no cache")), fail: "mount"},
				{do: say("skipped", nil)},
				{do: say("always", nil), always: true},
				{do: say("skipped too", nil), fail: "other"},
			},
			want: "<s S|ERROR: no cache|s>|always", wantCode: 1, wantBy: "mount"},
		{name: "the first failure names the run",
			steps: []step{
				{do: say("", errReported), fail: "cmdline", always: true},
				{do: say("", errors.New("bad mount")), fail: "mounts", always: true},
			},
			want: "ERROR: bad mount", wantCode: 1, wantBy: "cmdline"},
		{name: "an error already printed is not printed again",
			steps: []step{{do: say("ERROR: the step's own", errReported), fail: "volumes"}},
			want:  "ERROR: the step's own", wantCode: 1, wantBy: "volumes"},
		{name: "when and detail are read as the step starts",
			steps: []step{
				{section: "k", header: "Setting the keymap", detail: func() string { return "fr" }, do: say("loaded", nil)},
				{section: "x", header: "X", when: no, do: say("not wanted", nil)},
			},
			want: "<k Setting the keymap fr|loaded|k>"},
		{name: "a section of sections, its steps under the same rules",
			steps: []step{{section: "setup", header: "Setup", always: true, steps: []step{
				{do: say("", errors.New("no network")), fail: "connect"},
				{do: say("skipped", nil)},
				{section: "h", header: "Hostname", always: true, do: say("Hostname: dut", nil)},
			}}},
			want: "<setup Setup|ERROR: no network|<h Hostname|Hostname: dut|h>|setup>", wantCode: 1, wantBy: "connect"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		a = &agent{con: console.New(&out, func() time.Duration { return 0 }, func() time.Time { return time.Unix(0, 0) })}
		a.run(context.Background(), tt.steps)
		if got := simplify(out.String()); got != tt.want {
			t.Errorf("%s: console %q, want %q", tt.name, got, tt.want)
		}
		if a.status.Code != tt.wantCode || a.status.FailedBy != tt.wantBy {
			t.Errorf("%s: status %d by %q, want %d by %q", tt.name, a.status.Code, a.status.FailedBy, tt.wantCode, tt.wantBy)
		}
	}
}

// simplify turns the console's lines into "|"-joined ones, a section's
// start into "<name header" and its end into "name>".
func simplify(s string) string {
	var lines []string
	for _, l := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
		l = strings.TrimPrefix(l, "\x1b[0K")
		switch {
		case strings.HasPrefix(l, "section_start:0:"):
			name, header, _ := strings.Cut(strings.TrimPrefix(l, "section_start:0:"), "\r\x1b[0K")
			lines = append(lines, "<"+strings.TrimSuffix(name, "[collapsed=true]")+" "+stamped(header))
		case strings.HasPrefix(l, "section_end:0:"):
			name, _, _ := strings.Cut(strings.TrimPrefix(l, "section_end:0:"), "\r")
			lines = append(lines, name+">")
		default:
			lines = append(lines, stamped(l))
		}
	}
	return strings.Join(lines, "|")
}

func stamped(l string) string { return strings.TrimPrefix(l, "[   0.00]: ") }
