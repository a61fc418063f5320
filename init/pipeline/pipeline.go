// Package pipeline runs the b2c pipeline (docs/cmdline.md, "Containers"):
// the service containers, the stages in order, the post stages, and the
// status and shutdown mode that follow from their exit codes. Containers
// are run by an Engine, so the logic here is tested without podman.
package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
)

// Exit codes with a meaning of their own.
const (
	// ExitReboot from a stage switches the end of the run to a reboot.
	ExitReboot = 129
	// ExitPoweroff from a stage switches the end of the run to a power off.
	ExitPoweroff = 130
	// ExitTimeout is the status when b2c.timeout expired.
	ExitTimeout = 124
	// ExitEngine is the status of a stage podman could not pull, create or
	// start, as `podman run` reports it.
	ExitEngine = 125
)

// Engine runs containers.
type Engine interface {
	// Create pulls the image and creates a container, and returns its ID.
	Create(ctx context.Context, c cmdline.Container, env []string) (string, error)
	// Run starts a created container attached to the console, streams its
	// output and returns its exit code once it has exited.
	Run(ctx context.Context, id string) (int, error)
	// Start starts a created container, detached.
	Start(ctx context.Context, id string) error
	// Stop stops and removes a container.
	Stop(ctx context.Context, id string) error
	// StopAll stops every running container.
	StopAll(ctx context.Context) error
}

// The moments of the run at which the volumes transfer (docs/cmdline.md,
// "Mirrors: when transfers happen"), each in its execute_hooks section.
const (
	PipelineStart  = "pipeline_start"
	ContainerStart = "container_start"
	ContainerEnd   = "container_end"
	PipelineEnd    = "pipeline_end"
)

// Hooks runs what happens at a moment of the run: the volumes' pulls and
// pushes. At prints its own errors.
type Hooks interface {
	At(ctx context.Context, moment string) error
}

// Status is the state of the pipeline that every container sees in its
// environment and that decides the end of the run.
type Status struct {
	Code         int    // 0, or the exit code of the first failed stage
	FailedBy     string // what failed first: a container's value or a step name
	PrevName     string // the previous container's value
	PrevExitCode int
	Reboot       bool // end the run with a reboot instead of a power off
}

// Fail records a failure that happened outside a container (an invalid
// option, no network), if nothing failed before.
func (s *Status) Fail(step string) {
	if s.Code == 0 {
		s.Code = 1
		s.FailedBy = step
	}
}

// ShutdownMode is "reboot" or "poweroff".
func (s Status) ShutdownMode() string {
	if s.Reboot {
		return "reboot"
	}
	return "poweroff"
}

// Env returns the B2C_PIPELINE_* variables.
func (s Status) Env() []string {
	return []string{
		"B2C_PIPELINE_STATUS=" + strconv.Itoa(s.Code),
		"B2C_PIPELINE_FAILED_BY=" + s.FailedBy,
		"B2C_PIPELINE_PREV_CONTAINER=" + s.PrevName,
		"B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE=" + strconv.Itoa(s.PrevExitCode),
		"B2C_PIPELINE_SHUTDOWN_MODE=" + s.ShutdownMode(),
	}
}

func (s *Status) record(c cmdline.Container, code int, counts bool) {
	s.PrevName = c.Value
	s.PrevExitCode = code
	switch code {
	case ExitReboot:
		s.Reboot = true
	case ExitPoweroff:
		s.Reboot = false
	}
	if counts && code != 0 && s.Code == 0 {
		s.Code = code
		s.FailedBy = c.Value
	}
}

// Run runs the pipeline of cfg on e, starting from st (which may already
// record a failure), and returns the final status: the pipeline_start
// moment, the service containers, the stages in order, the post stages,
// the pipeline_end moment, in the console's sections (docs/cmdline.md,
// "Sections"). Once the pipeline_start moment passed, it never returns
// early: post stages and the pipeline_end moment run whatever happened.
func Run(ctx context.Context, cfg *cmdline.Config, e Engine, h Hooks, con *console.Console, st Status) Status {
	// A failure before the pipeline (an invalid option, no network) means
	// that no container runs at all.
	if st.Code != 0 {
		return st
	}
	r := &run{e: e, h: h, con: con, st: st}
	// Without its inputs the pipeline does not run, and nothing is pushed
	// back: a partial volume must not replace a bucket.
	if r.moment(ctx, PipelineStart) != nil {
		r.st.Fail("volumes")
		return r.st
	}
	runCtx := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	services := r.startServices(runCtx, cfg.RunService)
	for i, c := range cfg.Run {
		if r.st.Code != 0 && (cfg.Pipefail || len(services) < len(cfg.RunService)) {
			con.Logf("Skipping the container %q: the pipeline already failed", c.Value)
			continue
		}
		if runCtx.Err() != nil {
			break
		}
		code := r.container(runCtx, c, fmt.Sprintf("stage %d/%d", i+1, len(cfg.Run)))
		r.st.record(c, code, true)
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		con.Errorf("The pipeline timed out after %s, stopping every container", cfg.Timeout)
		if err := e.StopAll(ctx); err != nil {
			con.Warnf("stopping the containers: %v", err)
		}
		r.st.Code = ExitTimeout
		r.st.FailedBy = "timeout"
	}
	for _, c := range cfg.RunPost {
		code := r.container(ctx, c, "post container")
		r.st.record(c, code, false)
	}
	r.stopServices(ctx, services)
	if r.moment(ctx, PipelineEnd) != nil {
		r.st.Fail("volume_push")
	}
	return r.st
}

// run is one run of the pipeline.
type run struct {
	e   Engine
	h   Hooks
	con *console.Console
	st  Status
}

// moment runs the hooks of a moment in their section.
func (r *run) moment(ctx context.Context, name string) error {
	r.con.SectionStart("execute_hooks", "Transferring the volumes at "+name, true)
	defer r.con.SectionEnd("execute_hooks")
	if r.h == nil {
		return nil
	}
	return r.h.At(ctx, name)
}

// startServices starts the service containers, and returns the IDs of
// those that started: it stops at the first that does not, which fails the
// pipeline.
func (r *run) startServices(ctx context.Context, cs []cmdline.Container) []string {
	var ids []string
	for _, c := range cs {
		r.con.SectionStart("start_service_container", "Starting the service container "+c.Value, true)
		id, err := r.e.Create(ctx, c, r.st.Env())
		if err == nil {
			err = r.e.Start(ctx, id)
		}
		r.con.SectionEnd("start_service_container")
		if err != nil {
			r.con.Errorf("Could not start the service container %q: %v", c.Value, err)
			r.st.record(c, ExitEngine, true)
			break
		}
		ids = append(ids, id)
	}
	return ids
}

func (r *run) stopServices(ctx context.Context, ids []string) {
	for _, id := range ids {
		if err := r.e.Stop(ctx, id); err != nil {
			r.con.Warnf("stopping the service container %s: %v", id, err)
		} else {
			r.con.Logf("Stopped the service container %s", id)
		}
	}
}

// container runs one container between its container_start and
// container_end moments, and returns its exit code. A failed pull at the
// start fails the container without running it (and without the end's
// transfers); a failed push at the end fails a container that succeeded.
func (r *run) container(ctx context.Context, c cmdline.Container, what string) int {
	r.con.Logf("About to start executing a container (%s): %s", what, c.Value)
	var code int
	err := r.moment(ctx, ContainerStart)
	started := err == nil
	if started {
		code, err = r.createAndRun(ctx, c)
	}
	if err != nil {
		if ctx.Err() != nil {
			r.con.Errorf("The container %q was stopped: %v", c.Value, ctx.Err())
		} else {
			r.con.Errorf("The container %q could not run: %v", c.Value, err)
		}
		if code == 0 {
			code = ExitEngine
		}
	}
	r.con.SectionStart("b2c_post_container", "Gathering the container's results", true)
	r.con.Logf("The container exited with code %d", code)
	r.con.SectionEnd("b2c_post_container")
	if started && r.moment(ctx, ContainerEnd) != nil && code == 0 {
		code = 1
	}
	return code
}

func (r *run) createAndRun(ctx context.Context, c cmdline.Container) (int, error) {
	r.con.SectionStart("create_container", "Pulling and creating the container", true)
	id, err := r.e.Create(ctx, c, r.st.Env())
	r.con.SectionEnd("create_container")
	if err != nil {
		return 0, err
	}
	r.con.SectionStart("container_run", "Running "+c.Value, false)
	defer r.con.SectionEnd("container_run")
	return r.e.Run(ctx, id)
}
