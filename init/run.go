package main

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/b2c-dev/b2c/init/mirror"
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
	engine.Storage = a.storage.graphRoot
	a.engine = engine
	return nil
}

// setupStorage makes the volumes and their mirrors, and pulls what the
// pipeline starts with.
func (a *agent) setupStorage(ctx context.Context) error {
	if err := a.setupVolumes(ctx, a.engine); err != nil {
		return err
	}
	if err := a.setupMirrors(ctx, a.engine); err != nil {
		return err
	}
	// Without its inputs the pipeline does not run, and nothing is pushed
	// back: a partial volume must not replace a bucket.
	if a.mirrorAt(ctx, mirror.PipelineStart) != nil {
		return errReported // by mirrorAt
	}
	return nil
}

// runPipeline runs the containers, then pushes the volumes whatever their
// status: the pipeline's failure is in its status, a push's is this
// step's.
func (a *agent) runPipeline(ctx context.Context) error {
	a.startWatches(ctx)
	a.status = pipeline.Run(ctx, a.cfg, momentEngine{a.engine, a.mirrorAt}, a.con, a.status)
	a.stopWatches()
	if a.mirrorAt(ctx, mirror.PipelineEnd) != nil {
		return errReported // by mirrorAt
	}
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
	if a.storage.cache != "" {
		if err := a.engine.PruneContainers(ctx); err != nil {
			a.con.Warnf("%v", err)
		}
	}
	unix.Sync()
	return nil
}
