// Package runargs reads the arguments of `b2c run` and turns them into
// the kernel command line of the VM:
//
//	b2c run [b2c flags] [--] [podman create flags] IMAGE [CMD [ARG...]]
//
// b2c's flags come first and end at the first argument that is not one of
// them, or at "--"; podman's own flags of the same names (-v, --cpus,
// --timeout) go after "--". Which podman flags take a value, and so where
// IMAGE is, is decided by podman's own flag definitions.
package runargs

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/podmanargs"
)

// DefaultCacheSize is the size of a --cache disk made without :SIZE. The
// file is sparse: it takes the space its layers take.
const DefaultCacheSize = 8 << 30

// Options are the parsed arguments of `b2c run`.
type Options struct {
	Arch       string        // --arch: the VM's GOARCH, one of qemu.Arches; "" is amd64
	Verbose    bool          // -v: the whole console on stdout
	ConsoleLog string        // --console-log: the whole console, as the guest wrote it
	Kernel     string        // --kernel; empty: found next to b2c or in out/
	Initramfs  string        // --initramfs; likewise
	Cache      string        // --cache disk image, empty for none
	CacheSize  int64         // its size when made
	MemoryMB   int           // --mem
	CPUs       int           // --cpus
	Timeout    time.Duration // --timeout: b2c.timeout; 0 for none
	Append     []string      // --append: raw kernel arguments, in order
	Shares     []Share       // --share

	Podman  []string // podman create flags
	Image   string   // IMAGE as given
	Command []string // CMD [ARG...]
}

// Share is a --share HOSTDIR:CONTAINERPATH.
type Share struct {
	HostDir       string // absolute
	ContainerPath string
}

// UsageError is a bad command line: b2c exits 2.
type UsageError struct{ Err error }

func (e UsageError) Error() string { return e.Err.Error() }
func (e UsageError) Unwrap() error { return e.Err }

// Usage documents the flags, for `b2c run -h` and usage errors.
const Usage = `usage: b2c run [b2c flags] [--] [podman create flags] IMAGE [CMD [ARG...]]

Boots the b2c kernel and initramfs in QEMU (KVM when it works, else TCG)
and runs IMAGE as the pipeline's one stage. IMAGE is a registry reference,
an OCI layout directory, or a docker save / OCI archive tarball; local
images are served to the VM from a registry inside b2c.

b2c flags (podman's own -v, --cpus, --timeout go after --):
  --arch amd64|arm64       the VM's architecture (default amd64); arm64 is QEMU's virt
                           machine (qemu-system-aarch64), on TCG on another host; from a
                           local multi-arch image, the VM runs the linux/ARCH one
  -v                       show the whole console, not only the container's output and errors
  --console-log FILE       write the whole console to FILE
  --kernel FILE|DIR        the kernel (default: bzImage, Image for arm64, next to b2c, else in out/);
                           DIR: a built kernel tree, whose modules are appended to the initramfs
  --initramfs FILE         the initramfs (default: initramfs.linux_ARCH.cpio.zst, likewise)
  --cache FILE[:SIZE]      a disk image for images and layers, made sparse on first use (default size 8G)
  --mem MIB                VM memory in MiB (default 1024)
  --cpus N                 VM CPUs (default 2)
  --timeout DURATION       b2c.timeout: stop the pipeline after DURATION (status 124)
  --append ARGS            raw kernel arguments, any b2c.* option (repeatable)
  --share HOSTDIR:PATH     HOSTDIR on the host is PATH in the container, over 9p (repeatable)

-i and -t work as with podman: -i copies b2c's standard input to the
container (its end of file included), -t gives it a terminal; their
output is byte for byte. At a terminal, -t makes it raw: every key goes
to the container, Ctrl-C included; Ctrl-] then q stops the VM.

Exit status: the pipeline status (the container's exit code, 124 on
timeout, 125 when podman could not run it); 2 usage; 130 interrupted
(128+N on signal N); 255 no pipeline status: b2c could not start the VM
(the image is missing, no kernel, no QEMU), QEMU failed, or the console
never printed the end of the run.
`

// flagSet defines b2c's flags over o.
func flagSet(o *Options) *flag.FlagSet {
	fs := flag.NewFlagSet("b2c run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Func("arch", "", func(s string) error {
		a, err := qemu.LookupArch(s)
		o.Arch = a.Name
		return err
	})
	fs.BoolVar(&o.Verbose, "v", false, "")
	fs.StringVar(&o.ConsoleLog, "console-log", "", "")
	fs.StringVar(&o.Kernel, "kernel", "", "")
	fs.StringVar(&o.Initramfs, "initramfs", "", "")
	fs.Func("cache", "", func(s string) (err error) {
		o.Cache, o.CacheSize, err = parseCache(s)
		return err
	})
	fs.IntVar(&o.MemoryMB, "mem", 1024, "")
	fs.IntVar(&o.CPUs, "cpus", 2, "")
	fs.Func("timeout", "", func(s string) (err error) {
		o.Timeout, err = cmdline.ParseDuration(s)
		return err
	})
	fs.Func("append", "", func(s string) error { o.Append = append(o.Append, s); return nil })
	fs.Func("share", "", func(s string) error {
		sh, err := parseShare(s)
		o.Shares = append(o.Shares, sh)
		return err
	})
	return fs
}

// Parse reads the arguments that follow `b2c run`. check returns what
// the agent would refuse in the container's podman arguments
// (podmanargs.Check, or podmanspec.Parse where the CLI links podman). Its
// errors are UsageErrors.
func Parse(args []string, check func(podman []string) error) (Options, error) {
	var o Options
	fs := flagSet(&o)
	n := b2cFlags(fs, args)
	if err := fs.Parse(args[:n]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return o, err
		}
		return o, UsageError{err}
	}
	rest := args[n:]
	if len(rest) > 0 && rest[0] == "--" {
		rest = rest[1:]
	}
	if o.MemoryMB < 128 {
		return o, UsageError{fmt.Errorf("--mem %d: at least 128 MiB", o.MemoryMB)}
	}
	if o.CPUs < 1 {
		return o, UsageError{fmt.Errorf("--cpus %d: at least 1", o.CPUs)}
	}
	if len(rest) == 0 {
		return o, UsageError{errors.New("no image")}
	}
	if err := check(rest); err != nil {
		return o, UsageError{fmt.Errorf("%w (b2c run's own flags come before podman's: b2c run -h)", err)}
	}
	var err error
	if o.Podman, o.Image, o.Command, err = podmanargs.Split(rest); err != nil {
		return o, UsageError{err}
	}
	return o, nil
}

// Interactive tells whether the container has -i (it reads the person's
// standard input) and -t (a terminal).
func (o Options) Interactive() (interactive, tty bool) {
	all := append(append(append([]string(nil), o.Podman...), o.Image), o.Command...)
	interactive, _ = podmanargs.Bool(all, "interactive")
	tty, _ = podmanargs.Bool(all, "tty")
	return interactive, tty
}

// b2cFlags returns how many leading arguments are b2c's flags and their
// values: up to "--" or the first argument that is not one of fs's flags.
func b2cFlags(fs *flag.FlagSet, args []string) int {
	i := 0
	for i < len(args) {
		a := args[i]
		if a == "--" || len(a) < 2 || a[0] != '-' {
			return i
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if name == "h" || name == "help" {
			i++
			continue
		}
		f := fs.Lookup(name)
		if f == nil {
			return i
		}
		i++
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !hasValue && !(ok && bf.IsBoolFlag()) {
			i++ // the value is the next argument
		}
	}
	return min(i, len(args))
}

// parseCache reads FILE[:SIZE]; a FILE with a colon needs the :SIZE.
func parseCache(s string) (string, int64, error) {
	file, size := s, int64(DefaultCacheSize)
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		n, err := cmdline.ParseSize(s[i+1:])
		if err != nil {
			return "", 0, fmt.Errorf("--cache %s: %w", s, err)
		}
		file, size = s[:i], n
	}
	if file == "" {
		return "", 0, fmt.Errorf("--cache %s: no file", s)
	}
	return file, size, nil
}

// parseShare reads HOSTDIR:CONTAINERPATH, cut at the last ":/".
func parseShare(s string) (Share, error) {
	i := strings.LastIndex(s, ":/")
	if i <= 0 {
		return Share{}, fmt.Errorf("--share %s: want HOSTDIR:/CONTAINER/PATH", s)
	}
	dir, err := filepath.Abs(s[:i])
	if err != nil {
		return Share{}, fmt.Errorf("--share %s: %w", s, err)
	}
	return Share{HostDir: dir, ContainerPath: s[i+1:]}, nil
}
