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
	// Run pulls, creates, starts and attaches to a container, streams its
	// output to the console and returns its exit code once it has exited.
	Run(ctx context.Context, c cmdline.Container, env []string) (int, error)
	// Start pulls, creates and starts a detached container and returns its ID.
	Start(ctx context.Context, c cmdline.Container, env []string) (string, error)
	// Stop stops and removes a container.
	Stop(ctx context.Context, id string) error
	// StopAll stops every running container.
	StopAll(ctx context.Context) error
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
// record a failure), and returns the final status. It never returns early:
// post stages and cleanup run whatever happened.
func Run(ctx context.Context, cfg *cmdline.Config, e Engine, con *console.Console, st Status) Status {
	runCtx := ctx
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}

	// A failure before the pipeline (an invalid option, no network) means
	// that no container runs at all.
	if st.Code != 0 {
		return st
	}
	var services []string
	{
		for _, c := range cfg.RunService {
			con.SectionStart("start_service_container", "Starting the service container "+c.Value, true)
			id, err := e.Start(runCtx, c, st.Env())
			con.SectionEnd("start_service_container")
			if err != nil {
				con.Errorf("Could not start the service container %q: %v", c.Value, err)
				st.record(c, ExitEngine, true)
				break
			}
			services = append(services, id)
		}
	}

	con.SectionStart("start_pipeline", "Starting the pipeline", true)
	con.SectionEnd("start_pipeline")
	for i, c := range cfg.Run {
		if st.Code != 0 && (cfg.Pipefail || len(services) < len(cfg.RunService)) {
			con.Logf("Skipping the container %q: the pipeline already failed", c.Value)
			continue
		}
		if runCtx.Err() != nil {
			break
		}
		code := runOne(runCtx, e, con, c, st, fmt.Sprintf("stage %d/%d", i+1, len(cfg.Run)))
		st.record(c, code, true)
	}
	if errors.Is(runCtx.Err(), context.DeadlineExceeded) && ctx.Err() == nil {
		con.Errorf("The pipeline timed out after %s, stopping every container", cfg.Timeout)
		if err := e.StopAll(ctx); err != nil {
			con.Warnf("stopping the containers: %v", err)
		}
		st.Code = ExitTimeout
		st.FailedBy = "timeout"
	}

	for _, c := range cfg.RunPost {
		con.SectionStart("b2c_post_container", "Running the post container "+c.Value, true)
		con.SectionEnd("b2c_post_container")
		code := runOne(ctx, e, con, c, st, "post container")
		st.record(c, code, false)
	}

	for _, id := range services {
		if err := e.Stop(ctx, id); err != nil {
			con.Warnf("stopping the service container %s: %v", id, err)
		} else {
			con.Logf("Stopped the service container %s", id)
		}
	}
	return st
}

func runOne(ctx context.Context, e Engine, con *console.Console, c cmdline.Container, st Status, what string) int {
	con.Logf("About to start executing a container (%s): %s", what, c.Value)
	con.SectionStart("container_run", "Running "+c.Value, false)
	code, err := e.Run(ctx, c, st.Env())
	con.SectionEnd("container_run")
	if err != nil {
		if ctx.Err() != nil {
			con.Errorf("The container %q was stopped: %v", c.Value, ctx.Err())
		} else {
			con.Errorf("The container %q could not run: %v", c.Value, err)
		}
		if code == 0 {
			code = ExitEngine
		}
	}
	con.Logf("The container exited with code %d", code)
	return code
}
