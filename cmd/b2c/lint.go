package main

import (
	"fmt"
	"io"

	"github.com/b2c-dev/b2c/init/cmdline"
)

// lint prints the problems of a command line, one a line, with the token
// they concern; it fails (exit 1) when any is an error.
func lint(args []string, stdin io.Reader, stdout io.Writer) error {
	text, err := readCmdline(args, stdin)
	if err != nil {
		return err
	}
	r := cmdline.Parse(text)
	errs := 0
	for _, d := range r.Diagnostics {
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
