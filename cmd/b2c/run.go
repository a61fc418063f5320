package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"time"

	"golang.org/x/term"

	"github.com/b2c-dev/b2c/cmd/b2c/guestconsole"
	"github.com/b2c-dev/b2c/cmd/b2c/kmods"
	"github.com/b2c-dev/b2c/cmd/b2c/localimage"
	"github.com/b2c-dev/b2c/cmd/b2c/qemu"
	"github.com/b2c-dev/b2c/cmd/b2c/runargs"
	"github.com/b2c-dev/b2c/cmd/b2c/termio"
)

// Exit codes of b2c run besides the pipeline status (runargs.Usage).
const (
	// exitNoStatus: no pipeline status, because the VM did not boot or
	// never reached the end of the run, or the image is known missing.
	exitNoStatus = 255
	// exitSignal + N: stopped by signal N (130 for Ctrl-C).
	exitSignal = 128
)

const (
	// remoteCheckTimeout bounds the question to the image's registry;
	// no answer leaves the question to the guest.
	remoteCheckTimeout = 15 * time.Second
	// afterEnd is how long QEMU may take to power off after the last line.
	afterEnd = time.Minute
	// watchdogMargin is how long after --timeout the VM is given to stop
	// its containers and power off before b2c stops it.
	watchdogMargin = 10 * time.Minute
	// stopGrace is how long QEMU has to end after SIGTERM.
	stopGrace = 5 * time.Second
	// tailLines is how much of the console a boot failure quotes.
	tailLines = 25
)

// errSignal is how a signal stopped the run.
type errSignal struct{ sig syscall.Signal }

func (e errSignal) Error() string { return "stopped by " + e.sig.String() }

// runVM is `b2c run`; see runargs.Usage.
func runVM(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := runargs.Parse(args, checkContainer)
	var ue runargs.UsageError
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, runargs.Usage)
		return nil
	case errors.As(err, &ue):
		return errCommandUsage{msg: "run: " + ue.Error(), usage: runargs.Usage}
	}
	fail := func(err error) error {
		fmt.Fprintf(stderr, "b2c: run: %v\n", err)
		return exitError(exitNoStatus)
	}
	arch, err := qemu.LookupArch(o.Arch)
	if err != nil {
		return fail(err)
	}
	kernel, initramfs, bin, err := hostFiles(o, arch)
	if err != nil {
		return fail(err)
	}
	tmp, err := os.MkdirTemp("", "b2c-run-")
	if err != nil {
		return fail(err)
	}
	defer os.RemoveAll(tmp)

	if st, err := os.Stat(kernel); err == nil && st.IsDir() {
		if kernel, initramfs, err = kernelTree(ctx, arch, kernel, initramfs, tmp, stderr, o.Verbose); err != nil {
			return fail(fmt.Errorf("--kernel: %w", err))
		}
	}
	image, insecure, reg, err := prepareImage(ctx, o, arch, tmp)
	if err != nil {
		return fail(err)
	}
	if reg != nil {
		defer reg.Close()
	}
	kargs, err := o.KernelArgs(image, insecure)
	if err != nil {
		return fail(err)
	}
	m := qemu.Machine{Arch: arch.Name, Kernel: kernel, Initramfs: initramfs, Append: kargs,
		MemoryMB: o.MemoryMB, SMP: o.CPUs, NICs: 1, Shares: o.QEMUShares()}
	if m.Disks, err = hostStorage(o, stderr); err != nil {
		return fail(err)
	}
	// -i and -t: the container's input and output travel on ports of
	// their own (termio), byte for byte; otherwise on the console.
	var sess *termio.Session
	if interactive, tty := o.Interactive(); interactive || tty {
		if sess, m.Ports, err = termio.Listen(tmp, interactive, tty); err != nil {
			return fail(err)
		}
		defer sess.Close()
	}
	filter := consoleFilter{verbose: o.Verbose, log: io.Discard, stdout: stdout, stderr: stderr}
	if o.ConsoleLog != "" {
		f, err := os.Create(o.ConsoleLog)
		if err != nil {
			return fail(fmt.Errorf("--console-log: %w", err))
		}
		defer f.Close()
		filter.log = f
	}

	end := boot(ctx, o, arch, m, bin, &filter, sess, stdout, stderr)
	if reg != nil && o.Verbose {
		fmt.Fprintf(stderr, "b2c: local registry: %s\n", reg.Stats())
	}
	code, msg := end.exit()
	fmt.Fprint(stderr, msg)
	if code != 0 {
		return exitError(code)
	}
	return nil
}

// boot runs the VM until it ends, a signal stops it, or it hangs past
// --timeout, shows its console through filter, and returns how it ended.
func boot(ctx context.Context, o runargs.Options, arch qemu.Arch, m qemu.Machine, bin string, filter *consoleFilter, sess *termio.Session, stdout, stderr io.Writer) runEnd {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	stopOnSignals(ctx, cancel)
	if sess != nil {
		_, tty := o.Interactive()
		if tty && term.IsTerminal(int(os.Stdin.Fd())) {
			fmt.Fprintln(stderr, termio.EscapeHelp)
		}
		// The escape stops the VM as Ctrl-C would, which a raw terminal
		// gives to the container instead.
		if err := sess.Serve(ctx, os.Stdin, stdout, tty, func() { cancel(errSignal{syscall.SIGINT}) }); err != nil {
			fmt.Fprintf(stderr, "b2c: run: %v\n", err)
		}
		defer func() {
			sess.Wait(5 * time.Second)
			sess.Close()
		}()
	}
	if o.Timeout > 0 {
		// b2c.timeout ends the run in the guest; this only catches a VM
		// that hangs after it.
		t := time.AfterFunc(o.Timeout+watchdogMargin, func() {
			cancel(fmt.Errorf("the VM did not end %v after --timeout %v", watchdogMargin, o.Timeout))
		})
		defer t.Stop()
	}

	accel, why := chooseAccel(ctx, arch, bin, m.Kernel)
	argv := m.Args(accel)
	var qemuErr strings.Builder
	var qemuStderr io.Writer = &qemuErr
	if o.Verbose {
		fmt.Fprintf(stderr, "b2c: accel %s (%s)\nb2c: %s\n", accel, why, qemu.ShellQuote(append([]string{bin}, argv...)))
		qemuStderr = io.MultiWriter(&qemuErr, stderr)
	}
	line := func(raw string) {
		if filter.line(raw) == guestconsole.End {
			time.AfterFunc(afterEnd, func() { cancel(errors.New("QEMU did not end after the end of the run")) })
		}
	}
	runErr := qemu.Run(ctx, bin, argv, line, qemuStderr, stopGrace)
	end := runEnd{cause: context.Cause(ctx), err: runErr, verbose: o.Verbose, tail: filter.tail, qemuErr: qemuErr.String()}
	end.status, end.ended = filter.rd.Status()
	return end
}

// hostFiles finds the kernel, the initramfs and QEMU for arch.
func hostFiles(o runargs.Options, arch qemu.Arch) (kernel, initramfs, bin string, err error) {
	exe, err := os.Executable()
	if err != nil {
		return "", "", "", err
	}
	kernel, initramfs, err = o.BootFiles(filepath.Dir(exe))
	if err != nil {
		return "", "", "", err
	}
	bin, err = exec.LookPath(arch.Binary)
	if err != nil {
		return "", "", "", fmt.Errorf("%w (apt-get install %s)", err, arch.Package)
	}
	return kernel, initramfs, bin, nil
}

// kernelTree boots a kernel developer's tree, dir, built for arch: its
// arch/x86/boot/bzImage or arch/arm64/boot/Image, with its modules
// appended to the initramfs (kmods), where the agent's coldplug loads what
// the VM's devices need. The modules are those staged under
// dir/lib/modules (make modules_install INSTALL_MOD_PATH=dir), else staged
// now by make modules_install in tmp; a tree built without modules boots
// as it is.
func kernelTree(ctx context.Context, arch qemu.Arch, dir, initramfs, tmp string, stderr io.Writer, verbose bool) (kernel, initrd string, err error) {
	kernel = filepath.Join(dir, runargs.TreeKernel(arch))
	if _, err := os.Stat(kernel); err != nil {
		return "", "", fmt.Errorf("%s is a directory, but no built kernel tree: %w", dir, err)
	}
	root := dir
	if _, err := kmods.Release(dir); err != nil {
		if _, err := os.Stat(filepath.Join(dir, "modules.order")); err != nil {
			return kernel, initramfs, nil // no modules
		}
		root = filepath.Join(tmp, "modules")
		cmd := exec.CommandContext(ctx, "make", runargs.TreeModulesInstall(arch, dir, root)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			return "", "", fmt.Errorf("make modules_install: %v\n%s", err, out)
		}
	}
	release, err := kmods.Release(root)
	if err != nil {
		return "", "", err
	}
	archive, err := kmods.Archive(root, release)
	if err != nil {
		return "", "", err
	}
	initrd = filepath.Join(tmp, "initramfs-with-modules")
	if err := kmods.Append(initrd, initramfs, archive); err != nil {
		return "", "", err
	}
	if verbose {
		fmt.Fprintf(stderr, "b2c: %s's modules for %s appended to the initramfs (%.1f MB)\n", dir, release, float64(len(archive))/1e6)
	}
	return kernel, initrd, nil
}

// hostStorage makes the cache disk on first use and the shared
// directories, and returns the VM's disks.
func hostStorage(o runargs.Options, stderr io.Writer) ([]string, error) {
	var disks []string
	if o.Cache != "" {
		made, err := qemu.CreateDisk(o.Cache, o.CacheSize)
		if err != nil {
			return nil, err
		}
		if made && o.Verbose {
			fmt.Fprintf(stderr, "b2c: made the cache disk %s (%d bytes, sparse)\n", o.Cache, o.CacheSize)
		}
		disks = []string{o.Cache}
	}
	for _, s := range o.Shares {
		if err := os.MkdirAll(s.HostDir, 0o755); err != nil {
			return nil, fmt.Errorf("--share: %w", err)
		}
	}
	return disks, nil
}

// prepareImage returns the image as the guest names it, and whether the
// guest pulls it over plain HTTP. A local image is served from a registry
// inside b2c, which the caller closes: arch's image, when the local image
// is a multi-platform index. The guest's podman picks its own platform
// from a registry's index.
func prepareImage(ctx context.Context, o runargs.Options, arch qemu.Arch, tmp string) (string, bool, *localimage.Registry, error) {
	kind, err := localimage.Detect(o.Image)
	if err != nil {
		return "", false, nil, err
	}
	if kind == localimage.Remote {
		cctx, cancel := context.WithTimeout(ctx, remoteCheckTimeout)
		defer cancel()
		if err := localimage.CheckRemote(cctx, o.Image, skipsTLSVerify(o.Podman)); err != nil {
			return "", false, nil, err
		}
		return o.Image, false, nil, nil
	}
	extract := filepath.Join(tmp, "image")
	blobs := filepath.Join(tmp, "blobs")
	img, err := localimage.Load(o.Image, kind, extract, arch.Name)
	if err != nil {
		return "", false, nil, err
	}
	reg, err := localimage.Serve(ctx, img, blobs)
	if err != nil {
		return "", false, nil, err
	}
	return reg.GuestRef(), true, reg, nil
}

// chooseAccel tells whether KVM works for a guest of arch, remembering
// the answer in the user's cache directory. A guest of another
// architecture than the host's runs on TCG, without a probe boot.
func chooseAccel(ctx context.Context, arch qemu.Arch, bin, kernel string) (accel, why string) {
	if !arch.Native() {
		return qemu.AccelTCG, fmt.Sprintf("%s guest on a %s host: KVM runs the host's architecture only", arch.Name, runtime.GOARCH)
	}
	dir, err := os.UserCacheDir()
	if err != nil {
		return qemu.ProbeKVM(ctx, bin, kernel, qemu.KVMDevice, qemu.ProbeTimeout)
	}
	return qemu.CachedProbeKVM(ctx, filepath.Join(dir, "b2c", "kvm-probe"), bin, kernel, qemu.KVMDevice)
}

// skipsTLSVerify tells whether podman's flags turn TLS verification off.
func skipsTLSVerify(podman []string) bool {
	for _, f := range podman {
		if f == "--tls-verify=false" {
			return true
		}
	}
	return false
}

// stopOnSignals cancels ctx with errSignal on SIGINT or SIGTERM, so that
// QEMU is stopped and b2c exits 128+N.
func stopOnSignals(ctx context.Context, cancel context.CancelCauseFunc) {
	ch := make(chan os.Signal, 1)
	signal.Notify(ch, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		defer signal.Stop(ch)
		select {
		case s := <-ch:
			cancel(errSignal{s.(syscall.Signal)})
		case <-ctx.Done():
		}
	}()
}
