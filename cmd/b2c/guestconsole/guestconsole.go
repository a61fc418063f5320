// Package guestconsole reads the serial console of a b2c VM for `b2c run`:
// it tells the container's output from the lines of the agent and the
// kernel, picks out the agent's errors, and reads the pipeline status from
// the end-of-run line (docs/cmdline.md, "Console output").
//
// The container's output is what comes between the agent's container_run
// section markers and is not a section marker, an agent line ("[  12.34]: ...")
// or a kernel line ("[   12.345678] ..."). A container line that mimics
// either is shown only with -v.
package guestconsole

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
)

// Kind is what a console line is.
type Kind int

const (
	// Other is a kernel or agent line, shown only in the whole console.
	Other Kind = iota
	// Output is a line the container printed.
	Output
	// Error is one of the agent's ERROR lines.
	Error
	// End is the end-of-run line, which carries the pipeline status.
	End
)

var (
	agentLine  = regexp.MustCompile(`^\[ *\d+\.\d\d\]: `)
	kernelLine = regexp.MustCompile(`^\[ *\d+\.\d{6}\] `)
	endLine    = regexp.MustCompile(`^\[ *\d+\.\d\d\]: Execution is over, pipeline status: (\d+)$`)
	// A section marker opens or closes a collapsible section on its
	// line: \e[0Ksection_start:EPOCH:NAME[collapsed=true]\r\e[0K.
	section = regexp.MustCompile(`\x1b\[0Ksection_(start|end):\d+:([a-z0-9_]+)`)
)

// Reader classifies the lines of one console, in order.
type Reader struct {
	inRun  bool
	status int
	ended  bool
}

// Line classifies one console line, as the guest wrote it without its
// newline, and returns it as a terminal would show it.
func (r *Reader) Line(raw string) (Kind, string) {
	text := qemu.CleanLine(raw)
	if m := section.FindStringSubmatch(raw); m != nil {
		if m[2] == "container_run" {
			r.inRun = m[1] == "start"
		}
		return Other, text
	}
	if m := endLine.FindStringSubmatch(text); m != nil {
		if n, err := strconv.Atoi(m[1]); err == nil {
			r.status, r.ended = n, true
			return End, text
		}
	}
	if agentLine.MatchString(text) {
		if strings.Contains(text, "]: ERROR: ") {
			return Error, text
		}
		return Other, text
	}
	if r.inRun && !kernelLine.MatchString(text) {
		return Output, text
	}
	return Other, text
}

// Status returns the pipeline status, once the end-of-run line was read.
func (r *Reader) Status() (int, bool) { return r.status, r.ended }
