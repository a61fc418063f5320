package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/b2c-dev/b2c/cmd/b2c/guestconsole"
)

// consoleFilter shows the guest's console as `b2c run` does (README,
// "b2c run"): the container's output on stdout, the agent's ERROR lines
// on stderr, every line on stdout with verbose, and every line as the
// guest wrote it in log. It keeps the last tailLines lines for the report
// of a run that ends without a pipeline status.
type consoleFilter struct {
	verbose             bool
	log, stdout, stderr io.Writer

	rd   guestconsole.Reader
	tail []string
}

// line shows one console line, as the guest wrote it without its newline,
// and returns its kind.
func (f *consoleFilter) line(raw string) guestconsole.Kind {
	fmt.Fprintln(f.log, raw)
	kind, text := f.rd.Line(raw)
	f.tail = append(f.tail[max(0, len(f.tail)-tailLines+1):], text)
	switch {
	case f.verbose:
		fmt.Fprintln(f.stdout, text)
	case kind == guestconsole.Output:
		fmt.Fprintln(f.stdout, text)
	case kind == guestconsole.Error:
		fmt.Fprintln(f.stderr, text)
	}
	return kind
}

// runEnd is what `b2c run` knows once QEMU is gone.
type runEnd struct {
	// cause is why the run's context ended (context.Cause), nil if it
	// did not: an errSignal when a signal stopped the VM.
	cause error
	// status is the pipeline status, when ended says the console printed
	// the end-of-run line.
	status int
	ended  bool
	// err is how QEMU ended (qemu.Run).
	err error
	// verbose: the whole console is on stdout already.
	verbose bool
	// tail is the console's last lines, qemuErr what QEMU wrote on its
	// stderr: what a run without a status quotes.
	tail    []string
	qemuErr string
}

// exit returns the exit code of `b2c run` once the VM is gone, and what
// it writes on stderr before exiting: 128+N when signal N stopped the VM,
// else the pipeline status (124 on --timeout and 125 come from the guest
// as any other), else exitNoStatus with the console's last lines. Usage
// errors (2) and what fails before the VM boots (exitNoStatus) are
// decided before there is a run.
func (e runEnd) exit() (code int, stderr string) {
	var sig errSignal
	if errors.As(e.cause, &sig) {
		return exitSignal + int(sig.sig), fmt.Sprintf("b2c: run: %v: the VM is stopped\n", sig)
	}
	if e.ended {
		return e.status, ""
	}
	var b strings.Builder
	if !e.verbose {
		fmt.Fprintf(&b, "b2c: run: the console's last lines:\n  %s\n", strings.Join(e.tail, "\n  "))
		if e.qemuErr != "" {
			fmt.Fprintf(&b, "b2c: run: QEMU said:\n%s", e.qemuErr)
		}
	}
	err := e.err
	if err == nil {
		err = errors.New("the VM ended")
	}
	fmt.Fprintf(&b, "b2c: run: %v\n", fmt.Errorf("%w without a pipeline status (see above; -v shows the whole console)", err))
	return exitNoStatus, b.String()
}
