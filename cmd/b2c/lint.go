package main

import (
	"fmt"
	"io"

	"github.com/b2c-dev/b2c/init/cmdline"
)

const lintUsage = `usage: b2c lint [CMDLINE | -f FILE | -]

Checks a kernel command line as the agent will read it, and prints one
line per problem, naming the token: ERROR for what stops the run (no
container runs), WARNING for what the agent works around or ignores.
Besides each option's own value, it checks what spans options (a name
that no option defines: an S3 alias, a b2c.filesystem, an NBD device; a
mirror that never transfers) and the quoting (a double quote never
closed, a value the kernel split in two). Prints OK when there is no
error. Keys and passwords are shown as *****.

The command line is the arguments, joined by spaces; or the file of -f;
or stdin (- or no argument).

Exit status: 0 no error (warnings allowed), 1 errors, 2 usage.
`

// lint prints the problems of a command line, one a line, with the token
// they concern; it fails (exit 1) when any is an error.
func lint(args []string, stdin io.Reader, stdout io.Writer) error {
	if wantsHelp(args) {
		fmt.Fprint(stdout, lintUsage)
		return nil
	}
	text, err := readCmdline(args, stdin)
	if err != nil {
		return err
	}
	r := cmdline.Parse(text)
	stdout = maskWriter{stdout, r.Secrets()}
	errs := 0
	for _, d := range diagnostics(r) {
		fmt.Fprintln(stdout, d)
		if d.Error {
			errs++
		}
	}
	// The containers' podman flags are checked with podman's own parser,
	// as the agent will parse them.
	for _, group := range []struct {
		option string
		list   []cmdline.Container
	}{{"b2c.run", r.Config.Run}, {"b2c.run_post", r.Config.RunPost}, {"b2c.run_service", r.Config.RunService}} {
		for _, c := range group.list {
			if err := checkContainer(c.Args); err != nil {
				fmt.Fprintf(stdout, "ERROR: %s=%s: %v\n", group.option, c.Value, err)
				errs++
			}
		}
	}
	if errs > 0 {
		return exitError(1)
	}
	fmt.Fprintln(stdout, "OK")
	return nil
}

// diagnostics are the parser's, then those across options (Check).
func diagnostics(r *cmdline.Result) []cmdline.Diagnostic {
	return append(append([]cmdline.Diagnostic(nil), r.Diagnostics...), r.Check()...)
}
