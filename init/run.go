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
	engine.Storage = a.storage.GraphRoot()
	a.engine = engine
	return nil
}

// setupStorage makes the volumes and their mirrors, and pulls what the
// pipeline starts with.
func (a *agent) setupStorage(ctx context.Context) error {
	if err := a.storage.Setup(ctx, a.engine); err != nil {
		return err
	}
	// Without its inputs the pipeline does not run, and nothing is pushed
	// back: a partial volume must not replace a bucket.
	if a.storage.At(ctx, mirror.PipelineStart) != nil {
		return errReported // by At
	}
	return nil
}

// runPipeline runs the containers, then pushes the volumes whatever their
// status: the pipeline's failure is in its status, a push's is this
// step's.
func (a *agent) runPipeline(ctx context.Context) error {
	a.storage.Watch(ctx)
	a.status = pipeline.Run(ctx, a.cfg, a.storage.Engine(a.engine), a.con, a.status)
	a.storage.StopWatching()
	if a.storage.At(ctx, mirror.PipelineEnd) != nil {
		return errReported // by At
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
	if a.storage.Cached() {
		if err := a.engine.PruneContainers(ctx); err != nil {
			a.con.Warnf("%v", err)
		}
	}
	unix.Sync()
	return nil
}
