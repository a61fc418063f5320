package agent

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/hostio"
	"github.com/b2c-dev/b2c/init/pipeline"
	"github.com/b2c-dev/b2c/init/podman"
)

// connectPodman waits for podman's service to answer.
func (a *agent) connectPodman(ctx context.Context) error {
	if a.serviceErr != nil {
		return fmt.Errorf("could not start podman: %w", a.serviceErr)
	}
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	stdin, out, sizes := a.hostIO()
	engine, err := podman.Connect(cctx, a.podman.URI, a.con, stdin, out)
	if err != nil {
		return fmt.Errorf("%v; podman said: %s", err, a.podman.Tail(10))
	}
	if sizes != nil {
		go hostio.ReadSizes(bufio.NewReader(sizes), engine.SetSize)
	}
	engine.Storage = a.storage.GraphRoot()
	engine.Retrying = a.wd.KickCurrent
	// Containers read their job's options in /proc/cmdline: they get
	// it whole, but with the keys masked as on the console.
	const masked = "/run/b2c/cmdline"
	if err := os.MkdirAll("/run/b2c", 0o755); err == nil {
		if err := os.WriteFile(masked, []byte(a.con.Mask(a.kernelCmdline)), 0o444); err == nil {
			engine.Cmdline = masked
		}
	}
	a.engine = engine
	return nil
}

// hostIO returns the containers' input and output: the console, or the
// ports of `b2c run` (init/hostio) when it opened them, and the port of
// the terminal's size, if any.
func (a *agent) hostIO() (stdin *os.File, out io.Writer, sizes *os.File) {
	stdin, out = os.Stdin, a.con.Writer()
	ports := hostio.Devices("/sys", "/dev")
	open := func(name string, flag int) *os.File {
		if ports[name] == "" {
			return nil
		}
		f, err := os.OpenFile(ports[name], flag, 0)
		if err != nil {
			a.con.Warnf("open %s: %v", name, err)
			return nil
		}
		return f
	}
	if f := open(hostio.Stdin, os.O_RDONLY); f != nil {
		stdin = f
	}
	if f := open(hostio.Stdout, os.O_WRONLY); f != nil {
		out = a.con.WriterTo(f)
	}
	return stdin, out, open(hostio.Winsize, os.O_RDONLY)
}

// setupVolumes makes the volumes and their mirrors.
func (a *agent) setupVolumes(ctx context.Context) error {
	return a.storage.Setup(ctx, a.engine)
}

// runPipeline runs the containers, and the volumes' transfers around them.
func (a *agent) runPipeline(ctx context.Context) error {
	a.wd.SetTimeout(a.cfg.Timeout)
	stop := a.watchProgress()
	a.status = pipeline.Run(ctx, a.cfg, a.engine, a.storage, a.con, a.status)
	stop()
	a.wd.Status(a.status.Code, a.status.Reboot)
	return nil
}

// cleanup removes what the run leaves behind on the cache and flushes it.
// Its failures are warnings: the run is over.
func (a *agent) cleanup(ctx context.Context) error {
	if removed, err := a.engine.RemoveExpired(ctx); err != nil {
		a.con.Warnf("%v", err)
	} else if len(removed) > 0 {
		a.con.Logf("Removed the volumes that expire with the pipeline: %s", strings.Join(removed, ", "))
	}
	if a.storage.Cached() {
		if err := a.engine.PruneContainers(ctx); err != nil {
			a.con.Warnf("%v", err)
		}
	}
	unix.Sync()
	return nil
}
