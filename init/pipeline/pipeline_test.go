package pipeline

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/console"
)

// fakeEngine runs containers whose value is "exit N", "sleep" or
// "missing" (an image that does not pull): it is the pipeline's logic
// under test here, podman is tested end to end in ci/.
type fakeEngine struct {
	ran     []string // the containers it was asked to create, in order
	envs    [][]string
	started []string
	stopped []string
	stopAll int
}

func (f *fakeEngine) Create(ctx context.Context, c cmdline.Container, env []string) (string, error) {
	f.ran = append(f.ran, c.Value)
	f.envs = append(f.envs, env)
	if c.Args[0] == "missing" {
		return "", errors.New("manifest unknown")
	}
	return c.Value, nil
}

func (f *fakeEngine) Run(ctx context.Context, id string) (int, error) {
	args := strings.Fields(id)
	switch args[0] {
	case "exit":
		return strconv.Atoi(args[1])
	case "sleep":
		<-ctx.Done()
		return 137, ctx.Err()
	}
	return 0, nil
}

func (f *fakeEngine) Start(ctx context.Context, id string) error {
	f.started = append(f.started, id)
	return nil
}

func (f *fakeEngine) Stop(ctx context.Context, id string) error {
	f.stopped = append(f.stopped, id)
	return nil
}

func (f *fakeEngine) StopAll(ctx context.Context) error { f.stopAll++; return nil }

// fakeHooks records the moments, and fails at the moment fail names.
type fakeHooks struct {
	fail    string
	moments []string
}

func (h *fakeHooks) At(ctx context.Context, moment string) error {
	h.moments = append(h.moments, moment)
	if moment == h.fail {
		return errors.New("no bucket")
	}
	return nil
}

func testConsole() (*console.Console, *bytes.Buffer) {
	var out bytes.Buffer
	return console.New(&out, func() time.Duration { return 0 }, time.Now), &out
}

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
		{"failed service skips stages", `b2c.run_service=missing b2c.run="exit 0" b2c.run_post="exit 0"`, "", []string{"missing", "exit 0"}, ExitEngine, "missing", false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := cmdline.Parse(tt.cmdline)
			if err := r.Err(); err != nil {
				t.Fatal(err)
			}
			con, out := testConsole()
			e := &fakeEngine{}
			var st Status
			if tt.pre != "" {
				st.Fail(tt.pre)
			}
			st = Run(context.Background(), &r.Config, e, nil, con, st)
			if !reflect.DeepEqual(e.ran, tt.wantRan) || st.Code != tt.wantCode || st.FailedBy != tt.wantBy || st.Reboot != tt.wantReboot {
				t.Errorf("Run(%s) ran %q status %+v, want ran %q code %d by %q reboot %v\n%s",
					tt.cmdline, e.ran, st, tt.wantRan, tt.wantCode, tt.wantBy, tt.wantReboot, out.String())
			}
		})
	}
}

func TestEnvSeenByContainers(t *testing.T) {
	r := cmdline.Parse(`b2c.run="exit 3" b2c.run_post="exit 0"`)
	con, _ := testConsole()
	e := &fakeEngine{}
	Run(context.Background(), &r.Config, e, nil, con, Status{})
	want := []string{"B2C_PIPELINE_STATUS=3", "B2C_PIPELINE_FAILED_BY=exit 3", "B2C_PIPELINE_PREV_CONTAINER=exit 3",
		"B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE=3", "B2C_PIPELINE_SHUTDOWN_MODE=poweroff"}
	if !reflect.DeepEqual(e.envs[1], want) {
		t.Errorf("post container env = %q, want %q", e.envs[1], want)
	}
}

func TestTimeout(t *testing.T) {
	r := cmdline.Parse(`b2c.timeout=50ms b2c.run_service=db b2c.run=sleep b2c.run="exit 0" b2c.run_post="exit 0"`)
	con, out := testConsole()
	e := &fakeEngine{}
	st := Run(context.Background(), &r.Config, e, nil, con, Status{})
	if st.Code != ExitTimeout || st.FailedBy != "timeout" || e.stopAll != 1 {
		t.Errorf("status %+v, StopAll calls %d; want 124 by timeout, 1 call", st, e.stopAll)
	}
	if !reflect.DeepEqual(e.ran, []string{"db", "sleep", "exit 0"}) || !reflect.DeepEqual(e.stopped, []string{"db"}) {
		t.Errorf("ran %q stopped %q, want [db (service), sleep, exit 0 (post)] and the service", e.ran, e.stopped)
	}
	if !strings.Contains(out.String(), "timed out") {
		t.Errorf("console lacks the timeout line:\n%s", out.String())
	}
}

// TestSections checks the console's sections against docs/cmdline.md
// ("Sections"): flat, every container from its container_start hooks to
// its container_end hooks, with the moments' transfers inside the
// execute_hooks sections.
func TestSections(t *testing.T) {
	const (
		hooks = "+execute_hooks -execute_hooks "
		// A container that ran: its part of the sequence.
		ran     = hooks + "+create_container -create_container +container_run -container_run +b2c_post_container -b2c_post_container " + hooks
		results = "+b2c_post_container -b2c_post_container "
	)
	for _, tt := range []struct {
		name        string
		cmdline     string
		fail        string // the moment whose transfers fail
		want        string
		wantMoments string
		wantCode    int
		wantBy      string
	}{
		{name: "one stage", cmdline: `b2c.run="exit 0"`,
			want:        hooks + ran + hooks,
			wantMoments: "pipeline_start container_start container_end pipeline_end"},
		{name: "three stages, pipefail, the middle one fails", cmdline: `b2c.pipefail b2c.run="exit 0" b2c.run="exit 3" b2c.run="exit 0"`,
			want:        hooks + ran + ran + hooks,
			wantMoments: "pipeline_start container_start container_end container_start container_end pipeline_end",
			wantCode:    3, wantBy: "exit 3"},
		{name: "a post container", cmdline: `b2c.run="exit 0" b2c.run_post="exit 5"`,
			want:        hooks + ran + ran + hooks,
			wantMoments: "pipeline_start container_start container_end container_start container_end pipeline_end"},
		{name: "a service", cmdline: `b2c.run_service="exit 0" b2c.run="exit 0"`,
			want:        hooks + "+start_service_container -start_service_container " + ran + hooks,
			wantMoments: "pipeline_start container_start container_end pipeline_end"},
		{name: "an image that does not pull", cmdline: `b2c.run=missing`,
			want:        hooks + hooks + "+create_container -create_container " + results + hooks + hooks,
			wantMoments: "pipeline_start container_start container_end pipeline_end",
			wantCode:    ExitEngine, wantBy: "missing"},
		{name: "the pipeline's pulls fail", cmdline: `b2c.run="exit 0"`, fail: PipelineStart,
			want: hooks, wantMoments: "pipeline_start", wantCode: 1, wantBy: "volumes"},
		{name: "a container's pulls fail", cmdline: `b2c.run="exit 0"`, fail: ContainerStart,
			want:        hooks + hooks + results + hooks,
			wantMoments: "pipeline_start container_start pipeline_end",
			wantCode:    ExitEngine, wantBy: "exit 0"},
		{name: "a container's pushes fail", cmdline: `b2c.run="exit 0"`, fail: ContainerEnd,
			want:        hooks + ran + hooks,
			wantMoments: "pipeline_start container_start container_end pipeline_end",
			wantCode:    1, wantBy: "exit 0"},
		{name: "the pipeline's pushes fail", cmdline: `b2c.run="exit 0"`, fail: PipelineEnd,
			want:        hooks + ran + hooks,
			wantMoments: "pipeline_start container_start container_end pipeline_end",
			wantCode:    1, wantBy: "volume_push"},
	} {
		r := cmdline.Parse(tt.cmdline)
		con, out := testConsole()
		h := &fakeHooks{fail: tt.fail}
		st := Run(context.Background(), &r.Config, &fakeEngine{}, h, con, Status{})
		if got, want := strings.Join(console.Sections(out.String()), " "), strings.TrimSpace(tt.want); got != want {
			t.Errorf("%s: sections\n%s\nwant\n%s", tt.name, got, want)
		}
		if got := strings.Join(h.moments, " "); got != tt.wantMoments {
			t.Errorf("%s: moments %q, want %q", tt.name, got, tt.wantMoments)
		}
		if st.Code != tt.wantCode || st.FailedBy != tt.wantBy {
			t.Errorf("%s: status %d by %q, want %d by %q", tt.name, st.Code, st.FailedBy, tt.wantCode, tt.wantBy)
		}
	}
}

// TestLinesInSections: the exit code is in the results' section, an ERROR
// outside any section, where a lab sees it unfolded.
func TestLinesInSections(t *testing.T) {
	r := cmdline.Parse(`b2c.run=missing`)
	con, out := testConsole()
	Run(context.Background(), &r.Config, &fakeEngine{}, nil, con, Status{})
	open := ""
	where := map[string]string{}
	for _, l := range strings.Split(out.String(), "\n") {
		if s := console.Sections(l); len(s) == 1 {
			if open = s[0][1:]; s[0][0] == '-' {
				open = ""
			}
			continue
		}
		switch {
		case strings.Contains(l, "ERROR: The container \"missing\" could not run"):
			where["error"] = open
		case strings.Contains(l, "The container exited with code 125"):
			where["exit code"] = open
		}
	}
	if want := map[string]string{"error": "", "exit code": "b2c_post_container"}; !reflect.DeepEqual(where, want) {
		t.Errorf("lines in sections %q, want %q\n%s", where, want, out.String())
	}
}
