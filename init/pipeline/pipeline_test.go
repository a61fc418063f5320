package pipeline

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
)

// fakeEngine runs containers whose value is "exit N" or "sleep": it is the
// pipeline's logic under test here, podman is tested end to end in ci/.
type fakeEngine struct {
	ran     []string
	envs    [][]string
	started []string
	stopped []string
	stopAll int
}

func (f *fakeEngine) Run(ctx context.Context, c cmdline.Container, env []string) (int, error) {
	f.ran = append(f.ran, c.Value)
	f.envs = append(f.envs, env)
	switch c.Args[0] {
	case "exit":
		var n int
		for _, ch := range c.Args[1] {
			n = n*10 + int(ch-'0')
		}
		return n, nil
	case "missing":
		return 0, errors.New("manifest unknown")
	case "sleep":
		<-ctx.Done()
		return 137, ctx.Err()
	}
	return 0, nil
}

func (f *fakeEngine) Start(ctx context.Context, c cmdline.Container, env []string) (string, error) {
	if c.Args[0] == "missing" {
		return "", errors.New("manifest unknown")
	}
	f.started = append(f.started, c.Value)
	return "id-" + c.Value, nil
}

func (f *fakeEngine) Stop(ctx context.Context, id string) error {
	f.stopped = append(f.stopped, id)
	return nil
}

func (f *fakeEngine) StopAll(ctx context.Context) error { f.stopAll++; return nil }

func TestRun(t *testing.T) {
	for _, tt := range []struct {
		name       string
		cmdline    string
		pre        string // a step that failed before the pipeline
		wantRan    []string
		wantCode   int
		wantBy     string
		wantReboot bool
	}{
		{"success", `b2c.run="exit 0" b2c.run="exit 0"`, "", []string{"exit 0", "exit 0"}, 0, "", false},
		{"first failure wins", `b2c.run="exit 3" b2c.run="exit 4"`, "", []string{"exit 3", "exit 4"}, 3, "exit 3", false},
		{"pipefail", `b2c.pipefail b2c.run="exit 0" b2c.run="exit 2" b2c.run="exit 0"`, "", []string{"exit 0", "exit 2"}, 2, "exit 2", false},
		{"no pipefail", `b2c.run="exit 0" b2c.run="exit 2" b2c.run="exit 0"`, "", []string{"exit 0", "exit 2", "exit 0"}, 2, "exit 2", false},
		{"post runs after failure", `b2c.pipefail b2c.run="exit 5" b2c.run="exit 0" b2c.run_post="exit 9"`, "", []string{"exit 5", "exit 9"}, 5, "exit 5", false},
		{"post does not change status", `b2c.run="exit 0" b2c.run_post="exit 9"`, "", []string{"exit 0", "exit 9"}, 0, "", false},
		{"129 reboots", `b2c.run="exit 129"`, "", []string{"exit 129"}, 129, "exit 129", true},
		{"130 powers off again", `b2c.run="exit 129" b2c.run="exit 130"`, "", []string{"exit 129", "exit 130"}, 129, "exit 129", false},
		{"engine error is 125", `b2c.run="missing"`, "", []string{"missing"}, ExitEngine, "missing", false},
		{"setup failure runs nothing", `b2c.run="exit 0" b2c.run_post="exit 0"`, "connect", nil, 1, "connect", false},
		{"failed service skips stages", `b2c.run_service=missing b2c.run="exit 0" b2c.run_post="exit 0"`, "", []string{"exit 0"}, ExitEngine, "missing", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cmdline.Parse(tt.cmdline)
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			con := console.New(&out, func() time.Duration { return 0 }, time.Now)
			e := &fakeEngine{}
			var st Status
			if tt.pre != "" {
				st.Fail(tt.pre)
			}
			st = Run(context.Background(), &r.Config, e, con, st)
			if !reflect.DeepEqual(e.ran, tt.wantRan) || st.Code != tt.wantCode || st.FailedBy != tt.wantBy || st.Reboot != tt.wantReboot {
				t.Errorf("Run(%s) ran %q status %+v, want ran %q code %d by %q reboot %v\n%s",
					tt.cmdline, e.ran, st, tt.wantRan, tt.wantCode, tt.wantBy, tt.wantReboot, out.String())
			}
		})
	}
}

func TestEnvSeenByContainers(t *testing.T) {
	r := cmdline.Parse(`b2c.run="exit 3" b2c.run_post="exit 0"`)
	con := console.New(&bytes.Buffer{}, func() time.Duration { return 0 }, time.Now)
	e := &fakeEngine{}
	Run(context.Background(), &r.Config, e, con, Status{})
	want := []string{"B2C_PIPELINE_STATUS=3", "B2C_PIPELINE_FAILED_BY=exit 3", "B2C_PIPELINE_PREV_CONTAINER=exit 3",
		"B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE=3", "B2C_PIPELINE_SHUTDOWN_MODE=poweroff"}
	if !reflect.DeepEqual(e.envs[1], want) {
		t.Errorf("post container env = %q, want %q", e.envs[1], want)
	}
}

func TestTimeout(t *testing.T) {
	r := cmdline.Parse(`b2c.timeout=50ms b2c.run_service=db b2c.run=sleep b2c.run="exit 0" b2c.run_post="exit 0"`)
	var out bytes.Buffer
	con := console.New(&out, func() time.Duration { return 0 }, time.Now)
	e := &fakeEngine{}
	st := Run(context.Background(), &r.Config, e, con, Status{})
	if st.Code != ExitTimeout || st.FailedBy != "timeout" || e.stopAll != 1 {
		t.Errorf("status %+v, StopAll calls %d; want 124 by timeout, 1 call", st, e.stopAll)
	}
	if !reflect.DeepEqual(e.ran, []string{"sleep", "exit 0"}) || !reflect.DeepEqual(e.stopped, []string{"id-db"}) {
		t.Errorf("ran %q stopped %q, want [sleep, exit 0 (post)] and the service", e.ran, e.stopped)
	}
	if !strings.Contains(out.String(), "timed out") {
		t.Errorf("console lacks the timeout line:\n%s", out.String())
	}
}
