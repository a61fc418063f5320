package console

import (
	"bytes"
	"io"
	"regexp"
	"slices"
	"testing"
	"time"
)

func newTest() (*Console, *bytes.Buffer) {
	var b bytes.Buffer
	return New(&b, func() time.Duration { return 10380 * time.Millisecond },
		func() time.Time { return time.Unix(1700000000, 0) }), &b
}

func TestLines(t *testing.T) {
	for _, tt := range []struct {
		name string
		do   func(c *Console)
		want string
	}{
		{"log", func(c *Console) { c.Logf("About to start executing a container") }, "[  10.38]: About to start executing a container\n"},
		{"error", func(c *Console) { c.Errorf("Could not connect to the network, shutting down!") }, "[  10.38]: ERROR: Could not connect to the network, shutting down!\n"},
		{"warning", func(c *Console) { c.Warnf("x") }, "[  10.38]: WARNING: x\n"},
		{"section collapsed", func(c *Console) { c.SectionStart("b2c_setup", "Setup", true) },
			"\x1b[0Ksection_start:1700000000:b2c_setup[collapsed=true]\r\x1b[0K[  10.38]: Setup\n"},
		{"section open", func(c *Console) { c.SectionStart("container_run", "Run", false) },
			"\x1b[0Ksection_start:1700000000:container_run\r\x1b[0K[  10.38]: Run\n"},
		{"section end", func(c *Console) { c.SectionEnd("cleanup") }, "\x1b[0Ksection_end:1700000000:cleanup\r\x1b[0K\n"},
		{"end poweroff", func(c *Console) { c.End(0, false) },
			"[  10.38]: Execution is over, pipeline status: 0\nIt's now safe to turn off your computer\n"},
		{"end reboot", func(c *Console) { c.End(3, true) },
			"[  10.38]: Execution is over, pipeline status: 3\nRebooting the computer\n"},
		{"redact", func(c *Console) { c.Redact("s3cr3t"); c.Logf("key s3cr3t!") }, "[  10.38]: key *****!\n"},
		{"redact twice", func(c *Console) { c.Redact("s3cr3t"); c.Redact("s3cr3t"); c.Redact(""); c.Logf("key s3cr3t!") }, "[  10.38]: key *****!\n"},
	} {
		c, b := newTest()
		tt.do(c)
		if got := b.String(); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
}

// The regular expressions labs use on the end of the run.
func TestLabRegexps(t *testing.T) {
	c, b := newTest()
	c.End(0, false)
	for _, re := range []string{`(?m)\[.*\]: Execution is over, pipeline status: 0\r?$`, `(?m)^.*It's now safe to turn off your computer\r?$`} {
		if !regexp.MustCompile(re).Match(b.Bytes()) {
			t.Errorf("%s does not match %q", re, b.String())
		}
	}
}

type failing struct{}

func (failing) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestTeeGoesOnPastAFailure(t *testing.T) {
	var a, b bytes.Buffer
	n, err := Tee(&a, failing{}, &b).Write([]byte("x"))
	if n != 1 || err != nil || a.String() != "x" || b.String() != "x" {
		t.Errorf("Tee write = %d, %v; a=%q b=%q", n, err, a.String(), b.String())
	}
	if _, err := Tee(failing{}).Write([]byte("x")); err == nil {
		t.Error("Tee of only failing writers returned no error")
	}
}

func TestSections(t *testing.T) {
	c, b := newTest()
	b.WriteString("[    1.234567] Linux version\r\n")
	c.SectionEnd("b2c_kernel_boot")
	c.SectionStart("b2c_setup", "Setting up", true)
	c.Logf("section_start:1:not_a_marker")
	c.SectionEnd("b2c_setup")
	c.SectionStart("container_run", "Running", false)
	c.SectionEnd("container_run")
	got, want := Sections(b.String()), []string{"-b2c_kernel_boot", "+b2c_setup", "-b2c_setup", "+container_run", "-container_run"}
	if !slices.Equal(got, want) {
		t.Errorf("Sections = %q, want %q", got, want)
	}
	if got := Sections("no markers\n"); got != nil {
		t.Errorf("Sections of a console without markers = %q, want none", got)
	}
}

func TestWatchAndMask(t *testing.T) {
	c, _ := newTest()
	var got []string
	c.Watch(func(s string) { got = append(got, s) })
	c.SectionStart("connect", "Connecting", true)
	c.Logf("no section change")
	c.SectionEnd("connect")
	if want := []string{"connect", ""}; !slices.Equal(got, want) {
		t.Errorf("watched %q, want %q", got, want)
	}
	c.Redact("s3cret")
	if m := c.Mask("a s3cret b s3cret"); m != "a ***** b *****" {
		t.Errorf("Mask = %q", m)
	}
}

// TestTimings: each section's time, summed over its repeats, in the order
// the sections first opened; the time between sections is not counted.
func TestTimings(t *testing.T) {
	var b bytes.Buffer
	now := 6 * time.Second
	c := New(&b, func() time.Duration { return now }, func() time.Time { return time.Unix(1700000000, 0) })
	step := func(name string, d time.Duration) {
		c.SectionStart(name, name, true)
		now += d
		c.SectionEnd(name)
		now += 10 * time.Millisecond // between sections: not counted
	}
	step("b2c_setup", 20*time.Millisecond)
	step("execute_hooks", time.Second)
	step("container_run", 2500*time.Millisecond)
	step("execute_hooks", 500*time.Millisecond)
	b.Reset()
	c.Timings(5500 * time.Millisecond)
	want := "[  10.06]: Timings: kernel 5.50s, b2c_setup 0.02s, execute_hooks 1.50s, container_run 2.50s, total 10.06s\n"
	if b.String() != want {
		t.Errorf("Timings printed\n%q\nwant\n%q", b.String(), want)
	}
}

// TestContinue: a section whose header another process printed is timed
// from when it did, and ends as any other.
func TestContinue(t *testing.T) {
	var b bytes.Buffer
	now := 5 * time.Second
	c := New(&b, func() time.Duration { return now }, func() time.Time { return time.Unix(1700000000, 0) })
	var watched []string
	c.Watch(func(s string) { watched = append(watched, s) })
	c.Continue("b2c_setup", 2*time.Second)
	if b.Len() != 0 {
		t.Errorf("Continue printed %q, want nothing", b.String())
	}
	now += 250 * time.Millisecond
	c.SectionEnd("b2c_setup")
	b.Reset()
	c.Timings(2 * time.Second)
	want := "[   5.25]: Timings: kernel 2.00s, b2c_setup 3.25s, total 5.25s\n"
	if b.String() != want {
		t.Errorf("Timings printed\n%q\nwant\n%q", b.String(), want)
	}
	if want := []string{"b2c_setup", ""}; !slices.Equal(watched, want) {
		t.Errorf("watched %q, want %q", watched, want)
	}
}
