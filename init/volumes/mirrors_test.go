package volumes

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/b2c-dev/b2c/init/cmdline"
	"github.com/b2c-dev/b2c/init/pipeline"
)

type fakeEngine struct {
	pipeline.Engine
	log  *[]string
	code int
}

func (f fakeEngine) Run(ctx context.Context, c cmdline.Container, env []string) (int, error) {
	*f.log = append(*f.log, "run "+c.Value)
	return f.code, nil
}

// TestMomentEngine: the container moments wrap each container; a failed
// pull keeps the container from running, a failed push fails it.
func TestMomentEngine(t *testing.T) {
	tests := []struct {
		name      string
		failAt    string
		code      int
		wantLog   []string
		wantCode  int
		wantError bool
	}{
		{"both moments", "", 0, []string{"container_start", "run c", "container_end"}, 0, false},
		{"failed pull", "container_start", 0, []string{"container_start"}, pipeline.ExitEngine, true},
		{"failed push", "container_end", 0, []string{"container_start", "run c", "container_end"}, 1, false},
		{"failed push keeps the container's code", "container_end", 3, []string{"container_start", "run c", "container_end"}, 3, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log []string
			e := momentEngine{fakeEngine{log: &log, code: tt.code}, func(ctx context.Context, m string) error {
				log = append(log, m)
				if m == tt.failAt {
					return errors.New("no")
				}
				return nil
			}}
			code, err := e.Run(t.Context(), cmdline.Container{Value: "c"}, nil)
			if !reflect.DeepEqual(log, tt.wantLog) || code != tt.wantCode || (err != nil) != tt.wantError {
				t.Errorf("log %q, code %d, err %v; want %q, %d, error %v", log, code, err, tt.wantLog, tt.wantCode, tt.wantError)
			}
		})
	}
}

func TestList(t *testing.T) {
	for _, tt := range []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"a", "b"}, "a, b"},
		{[]string{"a", "b", "c"}, "a, b, ..."},
	} {
		if got := list(tt.in, 2); got != tt.want {
			t.Errorf("list(%q, 2) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
