package e2e

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/b2c-dev/b2c/ci/images"
)

// The scenarios of the pipeline's semantics (docs/cmdline.md, "Containers"
// and "End of the run").

func TestTTY(t *testing.T) {
	v := boot(t, run("-ti", `sh -c 'test -t 0 && test -t 1 && echo tty=yes || echo tty=no'`))
	if m := expect(t, v, `tty=(yes|no)`); m[1] != "yes" {
		t.Errorf("-ti container has no terminal: %q", m[0])
	}
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

func TestPipefail(t *testing.T) {
	for _, tt := range []struct {
		name      string
		pipefail  bool
		wantThird bool
	}{{"on", true, false}, {"off", false, true}} {
		t.Run(tt.name, func(t *testing.T) {
			args := []option{run(`echo stage-one`), run(`sh -c 'exit 2'`), run(`echo stage-three`)}
			if tt.pipefail {
				args = append(args, "b2c.pipefail")
			}
			v := boot(t, args...)
			expect(t, v, `^stage-one$`)
			if got := status(t, v); got != 2 {
				t.Errorf("pipeline status = %d, want 2", got)
			}
			if ran := strings.Contains(v.Console(), "\nstage-three\n"); ran != tt.wantThird {
				t.Errorf("third stage ran = %v, want %v", ran, tt.wantThird)
			}
		})
	}
}

func TestPostContainer(t *testing.T) {
	v := boot(t, run(`sh -c 'exit 4'`),
		`b2c.run_post="--tls-verify=false docker://`+busybox+` sh -c 'echo post-ran status=$B2C_PIPELINE_STATUS by=$B2C_PIPELINE_FAILED_BY; exit 9'"`)
	m := expect(t, v, `^post-ran status=(\d+) by=(.*)$`)
	if m[1] != "4" || !strings.Contains(m[2], "exit 4") {
		t.Errorf("post container saw %q, want status 4 failed by the first stage", m[0])
	}
	if got := status(t, v); got != 4 {
		t.Errorf("pipeline status = %d, want 4: the post container's 9 must not count", got)
	}
}

func TestServiceContainer(t *testing.T) {
	v := boot(t,
		`b2c.run_service="--tls-verify=false docker://`+busybox+` sh -c 'mkdir -p /www && echo service-ok > /www/index.html && httpd -f -p 8080 -h /www'"`,
		run(`sh -c 'for i in 1 2 3 4 5 6 7 8 9 10; do wget -qO- http://127.0.0.1:8080/ && exit 0; sleep 1; done; exit 1'`))
	expect(t, v, `^service-ok$`)
	expect(t, v, `Stopped the service container`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

func TestExit129Reboots(t *testing.T) {
	v := boot(t, run(`sh -c 'exit 129'`))
	m := expect(t, v, `\]: Execution is over, pipeline status: (\d+)$`)
	expect(t, v, `^Rebooting the computer$`)
	expect(t, v, `reboot: Restarting system`)
	if m[1] != "129" {
		t.Errorf("pipeline status = %s, want 129", m[1])
	}
}

func TestExtraArgsURL(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(run(`echo from-extra-args`) + "\n"))
	}))
	defer srv.Close()
	port := srv.URL[strings.LastIndexByte(srv.URL, ':')+1:]
	v := boot(t, run(`echo from-kernel`), "b2c.extra_args_url=http://10.0.2.2:"+port+"/args")
	expect(t, v, `^from-kernel$`)
	expect(t, v, `^from-extra-args$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

func TestTimeout(t *testing.T) {
	v := boot(t, "b2c.timeout=20s", run(`sleep 3600`))
	expect(t, v, `ERROR: The pipeline timed out`)
	if got := status(t, v); got != 124 {
		t.Errorf("pipeline status = %d, want 124", got)
	}
}

func TestShutdownCmd(t *testing.T) {
	v := boot(t, run(`sh -c 'exit 5'`), `b2c.shutdown_cmd="echo JOB_RESULT=$B2C_PIPELINE_PREV_CONTAINER_EXIT_CODE; poweroff -f"`)
	if got := status(t, v); got != 5 {
		t.Errorf("pipeline status = %d, want 5", got)
	}
	if !strings.Contains(v.Console(), "\nJOB_RESULT=5\n") {
		t.Errorf("console lacks JOB_RESULT=5")
	}
	// The lab's own "poweroff -f" is what powers off, not the agent's
	// fallback after the command returned.
	if strings.Contains(v.Console(), "poweroff") && strings.Contains(v.Console(), "not found") {
		t.Errorf("poweroff is not in the image")
	}
}

func TestInvalidValue(t *testing.T) {
	v := boot(t, "b2c.poweroff_delay=abc", run(`echo never`))
	m := expect(t, v, `ERROR: .*`)
	for _, w := range []string{"b2c.poweroff_delay", `"abc"`, "whole number of seconds"} {
		if !strings.Contains(m[0], w) {
			t.Errorf("ERROR line %q lacks %q", m[0], w)
		}
	}
	if got := status(t, v); got != 1 {
		t.Errorf("pipeline status = %d, want 1", got)
	}
	if strings.Contains(v.Console(), "About to start executing a container") {
		t.Error("a container started")
	}
	if n := strings.Count(v.Console(), "ERROR:"); n != 1 {
		t.Errorf("%d ERROR lines, want 1", n)
	}
}

func TestKeymap(t *testing.T) {
	v := boot(t, "b2c.keymap=fr", run(`echo keyed`))
	expect(t, v, `\]: Keymap fr loaded$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	// The keymap's step has its section, after the hostname's.
	checkSections(t, v, specRun(1))
}

func TestMissingKeymapWarns(t *testing.T) {
	v := boot(t, "b2c.keymap=klingon", run(`echo keyed`))
	expect(t, v, `\]: WARNING: keymap klingon: not among`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
}

// TestPullProgress: a pull of a three-layer image prints a start and an
// end line per layer, with the size and rate of the large one.
func TestPullProgress(t *testing.T) {
	img, err := images.Busybox()
	if err != nil {
		t.Fatal(err)
	}
	for i, size := range []int{24 << 20, 64 << 10} {
		if img, err = images.WithBlob(img, fmt.Sprintf("/blob%d", i), size, int64(100+i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := images.Push(t.Context(), img, reg.Addr()+"/b2c/layers:latest"); err != nil {
		t.Fatal(err)
	}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	v := boot(t, runImage(reg.GuestAddr()+"/b2c/layers:latest", "", `echo three-layers`))
	expect(t, v, `^three-layers$`)
	if got := status(t, v); got != 0 {
		t.Errorf("pipeline status = %d, want 0", got)
	}
	// The layers download in parallel: their lines interleave.
	for _, l := range layers {
		d, err := l.Digest()
		if err != nil {
			t.Fatal(err)
		}
		id := d.Hex[:12]
		for _, re := range []string{`: Pulling layer ` + id + `$`, `: Pulled layer ` + id + `(: [0-9.]+ MiB)? in [0-9.]+ s`} {
			if _, ok, err := v.FirstLine(re); !ok || err != nil {
				t.Errorf("no line %q (%v)", re, err)
			}
		}
	}
	if _, ok, _ := v.FirstLine(`: Pulled layer [0-9a-f]{12}: 24\.0 MiB in [0-9.]+ s \([0-9.]+ MiB/s\)$`); !ok {
		t.Errorf("no line with the 24 MiB layer's size and rate\n%s", v.Console())
	}
}
