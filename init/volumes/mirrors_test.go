package volumes

import (
	"testing"

	"github.com/b2c-dev/b2c/init/mirror"
	"github.com/b2c-dev/b2c/init/pipeline"
)

// TestMoments: the pipeline names the moments as the mirrors do.
func TestMoments(t *testing.T) {
	for _, m := range [][2]string{
		{pipeline.PipelineStart, mirror.PipelineStart},
		{pipeline.ContainerStart, mirror.ContainerStart},
		{pipeline.ContainerEnd, mirror.ContainerEnd},
		{pipeline.PipelineEnd, mirror.PipelineEnd},
	} {
		if m[0] != m[1] {
			t.Errorf("pipeline's moment %q, mirror's %q", m[0], m[1])
		}
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
