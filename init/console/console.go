// Package console writes the agent's lines to the consoles: log lines
// prefixed with the uptime, GitLab collapsible-section markers and the
// end-of-run lines. Labs match these lines with regular expressions, so
// their bytes are an interface: add lines, never change them.
package console

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"
)

// Console writes lines to w. It is safe for concurrent use.
type Console struct {
	mu     sync.Mutex
	w      io.Writer
	uptime func() time.Duration
	now    func() time.Time
	redact []string
	watch  func(section string)

	// The time spent in each section, in the order they first opened,
	// for the run's timing summary.
	open    string
	opened  time.Duration
	order   []string
	elapsed map[string]time.Duration
}

// New returns a console writing to w, stamping lines with uptime() and the
// section markers with now().
func New(w io.Writer, uptime func() time.Duration, now func() time.Time) *Console {
	return &Console{w: w, uptime: uptime, now: now, elapsed: map[string]time.Duration{}}
}

// Watch makes every later section start call fn with its name, and every
// section end call fn with "": the watchdog bounds the agent's steps by
// the sections a lab sees.
func (c *Console) Watch(fn func(section string)) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.watch = fn
}

func (c *Console) notify(section string) {
	c.mu.Lock()
	fn := c.watch
	c.mu.Unlock()
	if fn != nil {
		fn(section)
	}
}

// Writer returns a writer for output that is not the agent's lines
// (containers, loadkeys, shutdown_cmd): bytes as they come, with the
// secrets masked as in the lines. Each writer holds its own state: give
// each stream its own.
func (c *Console) Writer() io.Writer { return &streamMask{c: c} }

// WriterTo is Writer onto w instead of the consoles: the containers'
// output that `b2c run` carries byte for byte on a port of its own
// (init/hostio) is masked the same way.
func (c *Console) WriterTo(w io.Writer) io.Writer { return &streamMask{c: c, to: w} }

// Direct returns the consoles themselves, unmasked. Only for b2c.shutdown_cmd
// and b2c.reboot_cmd, the lab's own commands: they print their last lines
// and then power the machine off at once (poweroff -f), and only a write
// straight to the console file gets those lines out first; a masking copy
// would lose them.
func (c *Console) Direct() io.Writer { return c.w }

// Redact makes every later line replace s with "*****", so that secrets
// given on the command line never reach the console through a message
// that quotes them. A secret given again (the agent registers all of them
// once more after the extra options) is kept once.
func (c *Console) Redact(s string) {
	if s == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if !slices.Contains(c.redact, s) {
		c.redact = append(c.redact, s)
	}
}

func (c *Console) write(s string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	io.WriteString(c.w, c.mask(s))
}

// Mask returns s with the secrets replaced, as the console prints it.
func (c *Console) Mask(s string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.mask(s)
}

func (c *Console) mask(s string) string {
	for _, r := range c.redact {
		s = strings.ReplaceAll(s, r, "*****")
	}
	return s
}

// writeRaw writes b as it is: masked already, or lines that must reach
// labs byte for byte.
func (c *Console) writeRaw(b []byte) {
	if len(b) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.w.Write(b)
}

// secrets returns the secrets registered so far.
func (c *Console) secrets() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.redact)
}

func (c *Console) stamp() string {
	return fmt.Sprintf("[%7.2f]: ", c.uptime().Seconds())
}

// Logf prints "[ uptime]: message".
func (c *Console) Logf(format string, args ...any) {
	c.write(c.stamp() + fmt.Sprintf(format, args...) + "\n")
}

// Errorf prints "[ uptime]: ERROR: message".
func (c *Console) Errorf(format string, args ...any) {
	c.Logf("ERROR: "+format, args...)
}

// Warnf prints "[ uptime]: WARNING: message".
func (c *Console) Warnf(format string, args ...any) {
	c.Logf("WARNING: "+format, args...)
}

// SectionStart opens a GitLab collapsible section with a header line.
func (c *Console) SectionStart(name, header string, collapsed bool) {
	opt := ""
	if collapsed {
		opt = "[collapsed=true]"
	}
	c.notify(name)
	c.clock(name)
	c.write(fmt.Sprintf("\x1b[0Ksection_start:%d:%s%s\r\x1b[0K%s%s\n", c.now().Unix(), name, opt, c.stamp(), header))
}

// Continue makes name the open section as if SectionStart had opened it
// at uptime since, without printing anything: another process printed
// its header (PID 1 prints the run's first lines while the agent starts,
// see watchdog.Open), and this console carries on inside it.
func (c *Console) Continue(name string, since time.Duration) {
	c.notify(name)
	c.clockAt(name, since)
}

// SectionEnd closes the section opened with that name.
func (c *Console) SectionEnd(name string) {
	c.write(fmt.Sprintf("\x1b[0Ksection_end:%d:%s\r\x1b[0K\n", c.now().Unix(), name))
	c.clock("")
	c.notify("")
}

// clock adds the time of the section that ends (if any) to its total,
// and starts timing section (if any).
func (c *Console) clock(section string) { c.clockAt(section, c.uptime()) }

// clockAt is clock at uptime now.
func (c *Console) clockAt(section string, now time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.open != "" {
		c.elapsed[c.open] += now - c.opened
	}
	c.open, c.opened = section, now
	if _, ok := c.elapsed[section]; section != "" && !ok {
		c.elapsed[section] = 0
		c.order = append(c.order, section)
	}
}

// Timings prints one line with the time spent in each section, summed
// over its repeats, in the order they first opened, after the time the
// kernel took to start b2c ("kernel": the uptime of the first line) and
// before the uptime ("total"):
//
//	[  32.10]: Timings: kernel 3.90s, b2c_setup 2.39s, …, total 32.10s
//
// Labs graph it across runs. kernel is the uptime of the run's first
// line, given by the caller.
func (c *Console) Timings(kernel time.Duration) {
	c.mu.Lock()
	parts := []string{fmt.Sprintf("kernel %.2fs", kernel.Seconds())}
	for _, name := range c.order {
		parts = append(parts, fmt.Sprintf("%s %.2fs", name, c.elapsed[name].Seconds()))
	}
	c.mu.Unlock()
	parts = append(parts, fmt.Sprintf("total %.2fs", c.uptime().Seconds()))
	c.Logf("Timings: %s", strings.Join(parts, ", "))
}

// Section runs fn inside a collapsed section.
func (c *Console) Section(name, header string, fn func() error) error {
	c.SectionStart(name, header, true)
	defer c.SectionEnd(name)
	return fn()
}

// End prints the end-of-run lines that labs wait for. They are never
// masked: they hold no secret, and a short one ("0") must not turn
// "pipeline status: 0" into something no lab's regex matches.
func (c *Console) End(status int, reboot bool) {
	last := "It's now safe to turn off your computer\n"
	if reboot {
		last = "Rebooting the computer\n"
	}
	c.writeRaw([]byte(fmt.Sprintf("%sExecution is over, pipeline status: %d\n%s", c.stamp(), status, last)))
}
