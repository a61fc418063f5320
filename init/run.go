package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

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
	engine, err := podman.Connect(cctx, a.podman.URI, a.con, os.Stdin, a.con.Writer())
	if err != nil {
		return fmt.Errorf("%v; podman said: %s", err, a.podman.Tail(10))
	}
	engine.Storage = a.storage.GraphRoot()
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
