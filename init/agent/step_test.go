package agent

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
	"github.com/b2c-dev/b2c/init/podman"
	"github.com/b2c-dev/b2c/init/watchdog"
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
		{name: "a detail that is empty leaves the header alone",
			steps: []step{{section: "k", header: "Setting the keymap", detail: func() string { return "" }, do: say("", nil)}},
			want:  "<k Setting the keymap|k>"},
		{name: "the steps of a section, under the same rules",
			steps: []step{{section: "start", header: "Start", always: true, steps: []step{
				{do: say("", errors.New("no podman")), fail: "podman"},
				{do: say("skipped", nil)},
				{do: say("always", nil), always: true},
			}}},
			want: "<start Start|ERROR: no podman|always|start>", wantCode: 1, wantBy: "podman"},
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

// TestBootSections runs the boot's steps, each stubbed, and checks their
// sections (docs/cmdline.md, "Sections"): flat, every one on a run that
// goes well, from -connect to the end after the network failed.
func TestBootSections(t *testing.T) {
	setup := "+b2c_setup -b2c_setup +runtime_info -runtime_info +load_modules -load_modules " +
		"+mount_cache_partition -mount_cache_partition +connect -connect"
	// With extra options, the storage comes after them.
	extra := "+b2c_setup -b2c_setup +runtime_info -runtime_info +load_modules -load_modules +connect -connect " +
		"+ntp_set -ntp_set +parse_extra_cmdline -parse_extra_cmdline +mount_cache_partition -mount_cache_partition"
	for _, tt := range []struct {
		name  string
		extra string // b2c.extra_args_url on the kernel's line
		fail  string // the step that fails, by its fail name
		want  string
	}{
		{"a run that goes well", "", "", setup + " +ntp_set -ntp_set +parse_extra_cmdline -parse_extra_cmdline " +
			"+set_hostname -set_hostname +set_keymap -set_keymap +start_pipeline -start_pipeline +cleanup -cleanup"},
		{"no network", "", "connect", setup},
		{"a bad option", "", "cmdline", "+b2c_setup -b2c_setup +runtime_info -runtime_info +load_modules -load_modules " +
			"+mount_cache_partition -mount_cache_partition"},
		{"extra options", "http://lab/args", "", extra +
			" +set_hostname -set_hostname +set_keymap -set_keymap +start_pipeline -start_pipeline +cleanup -cleanup"},
		{"extra options not fetched", "http://lab/args", "parse_extra_cmdline", "+b2c_setup -b2c_setup +runtime_info -runtime_info " +
			"+load_modules -load_modules +connect -connect +ntp_set -ntp_set +parse_extra_cmdline -parse_extra_cmdline"},
		{"extra options, no network", "http://lab/args", "connect", "+b2c_setup -b2c_setup +runtime_info -runtime_info " +
			"+load_modules -load_modules +connect -connect"},
	} {
		var out bytes.Buffer
		a := &agent{con: console.New(&out, func() time.Duration { return 0 }, time.Now), cfg: &cmdline.Config{},
			kernelCfg: cmdline.Config{ExtraArgsURL: tt.extra}}
		steps := stub(a.steps(), tt.fail)
		if tt.fail == "" {
			a.engine = &podman.Engine{} // the cleanup's when: podman answered
		}
		a.run(context.Background(), steps)
		if got := strings.Join(console.Sections(out.String()), " "); got != tt.want {
			t.Errorf("%s: sections\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}

// TestContinuedSection: the section whose header PID 1 printed
// (watchdog.Open) is not opened again, and the agent ends it; the rest is
// as without PID 1.
func TestContinuedSection(t *testing.T) {
	sections := func(continued string) string {
		var out bytes.Buffer
		a := &agent{con: console.New(&out, func() time.Duration { return 0 }, time.Now), cfg: &cmdline.Config{},
			continued: continued, engine: &podman.Engine{}}
		a.run(context.Background(), stub(a.steps(), ""))
		return strings.Join(console.Sections(out.String()), " ")
	}
	alone := sections("")
	if !strings.HasPrefix(alone, "+b2c_setup -b2c_setup ") {
		t.Fatalf("without PID 1, sections %s, want +b2c_setup -b2c_setup first", alone)
	}
	if got, want := sections(watchdog.SetupSection), strings.TrimPrefix(alone, "+b2c_setup "); got != want {
		t.Errorf("after PID 1 opened b2c_setup, sections\n%s\nwant\n%s", got, want)
	}
}

// stub replaces what steps do with nothing, or an error for the step
// whose fail name is fail, and checks that no step inside a section has a
// section of its own.
func stub(steps []step, fail string) []step {
	out := make([]step, len(steps))
	for i, s := range steps {
		s.do = func(context.Context) error { return nil }
		if s.fail != "" && s.fail == fail {
			s.do = func(context.Context) error { return errors.New(fail + " failed") }
		}
		for _, in := range s.steps {
			if in.section != "" {
				panic("the section " + s.section + " holds the section " + in.section)
			}
		}
		s.steps = stub(s.steps, fail)
		out[i] = s
	}
	return out
}
