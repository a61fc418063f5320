package agent

import (
	"context"
	"errors"
)

// A step is one part of the boot: a collapsed console section, or lines
// outside any.
type step struct {
	section string // the section's name in its markers; "": no section
	header  string
	detail  func() string // read when the step starts, ends the header unless empty

	do    func(ctx context.Context) error
	steps []step // the steps inside the section, without sections of their own

	when   func() bool // nil: the step is always wanted
	always bool        // the step runs even after the run failed
	// fail is the name an error of the step fails the run with (its
	// B2C_PIPELINE_FAILED_BY); "": an error is a warning.
	fail string
}

// errReported is the error of a step that printed its own ERROR lines.
var errReported = errors.New("reported on the console")

// run runs steps in order: this is where a failure skips the rest.
func (a *agent) run(ctx context.Context, steps []step) {
	for _, s := range steps {
		if a.status.Code != 0 && !s.always || s.when != nil && !s.when() {
			continue
		}
		a.runStep(ctx, s)
	}
}

// runStep runs one step in its section and reports its error, inside the
// section.
func (a *agent) runStep(ctx context.Context, s step) {
	if s.section != "" {
		header := s.header
		if s.detail != nil {
			if d := s.detail(); d != "" {
				header += " " + d
			}
		}
		if s.section == a.continued {
			a.continued = ""
			a.con.Continue(s.section, a.kernelTime)
		} else {
			a.con.SectionStart(s.section, header, true)
		}
		defer a.con.SectionEnd(s.section)
	}
	a.run(ctx, s.steps)
	if s.do == nil {
		return
	}
	err := s.do(ctx)
	switch {
	case err == nil:
		return
	case errors.Is(err, errReported):
	case s.fail != "":
		a.con.Errorf("%v", err)
	default:
		a.con.Warnf("%v", err)
	}
	if s.fail != "" {
		a.status.Fail(s.fail)
	}
}
