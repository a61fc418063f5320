// Command b2c is the host side of b2c: it checks and explains kernel
// command lines before they go to a hundred machines, writes what
// boots them (boot loader configurations and flashable disk images), and
// runs a container in a b2c VM on this machine.
//
// Exit codes: 0 success; 1 the command line has errors (lint, boot-config,
// disk) or the command failed; 2 usage; b2c run: the pipeline status, 130
// on Ctrl-C, 255 when the VM gave no status (see runargs.Usage).
package main

import (
	"context"
	"fmt"
	"io"
	"os"
)

const usage = `usage: b2c COMMAND [ARGS]

commands:
  lint [CMDLINE | -f FILE | -]     check a kernel command line; exit 1 on errors
  explain [CMDLINE | -f FILE | -]  print what the agent will do with it
  boot-config FORMAT [-arch A] [-kernel P] [-initrd P] [-mac MAC] [-o DIR] [CMDLINE | -f FILE | -]
                                   write a boot loader configuration; FORMAT is
                                   syslinux, extlinux, ipxe, grub or systemd-boot
  disk [-arch A] [-kernel P] [-initrd P] [-cache-size SIZE] IMAGE [CMDLINE | -f FILE | -]
                                   make a UEFI-bootable GPT disk image
  disk --update IMAGE [-kernel P] [-initrd P] [CMDLINE | -f FILE | -]
                                   replace the kernel, initramfs or command line
  run [FLAGS] [--] [PODMAN FLAGS] IMAGE [CMD...]
                                   run IMAGE in a b2c VM (QEMU); exit with the
                                   pipeline status, 255 if the VM gave none
                                   (b2c run -h)
  help [COMMAND]                   this text, or COMMAND's (b2c COMMAND -h)
`

// errUsage makes main exit 2.
type errUsage struct{ msg string }

func (e errUsage) Error() string { return e.msg }

// errCommandUsage makes main exit 2 with a command's own usage.
type errCommandUsage struct{ msg, usage string }

func (e errCommandUsage) Error() string { return e.msg }

func main() {
	err := run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	os.Exit(exitCode(err, os.Stderr))
}

func exitCode(err error, stderr io.Writer) int {
	switch e := err.(type) {
	case nil:
		return 0
	case errUsage:
		fmt.Fprintf(stderr, "b2c: %s\n%s", e.msg, usage)
		return 2
	case errCommandUsage:
		fmt.Fprintf(stderr, "b2c: %s\n%s", e.msg, e.usage)
		return 2
	case exitError:
		return int(e)
	default:
		fmt.Fprintf(stderr, "b2c: %v\n", err)
		return 1
	}
}

// exitError ends the program with that code and no message: the command
// has printed what it had to say.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit %d", int(e)) }

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errUsage{"no command"}
	}
	switch args[0] {
	case "lint":
		return lint(args[1:], stdin, stdout)
	case "explain":
		return explain(args[1:], stdin, stdout)
	case "boot-config":
		return bootConfig(args[1:], stdin, stdout, stderr)
	case "disk":
		return disk(args[1:], stdin, stdout, stderr)
	case "run":
		return runVM(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		if len(args) > 1 && args[0] == "help" {
			// b2c help COMMAND is b2c COMMAND -h.
			return run(ctx, []string{args[1], "-h"}, stdin, stdout, stderr)
		}
		fmt.Fprint(stdout, usage)
		return nil
	}
	return errUsage{fmt.Sprintf("unknown command %q", args[0])}
}

// wantsHelp tells whether a command's arguments ask for its usage.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// readCmdline takes the command line as arguments, from a file (-f FILE)
// or from stdin ("-" or nothing).
func readCmdline(args []string, stdin io.Reader) (string, error) {
	switch {
	case len(args) == 0 || len(args) == 1 && args[0] == "-":
		b, err := io.ReadAll(stdin)
		return string(b), err
	case args[0] == "-f":
		if len(args) != 2 {
			return "", errUsage{"-f takes one file"}
		}
		b, err := os.ReadFile(args[1])
		if err != nil {
			return "", fmt.Errorf("read command line: %w", err)
		}
		return string(b), nil
	}
	s := ""
	for i, a := range args {
		if i > 0 {
			s += " "
		}
		s += a
	}
	return s, nil
}
