package mirror

import (
	"reflect"
	"strings"
	"testing"
)

func TestStepsAt(t *testing.T) {
	lab := &Client{Alias: "lab"}
	in := &Target{Client: lab, Place: Place{"lab", "in", ""}}
	out := &Target{Client: lab, Place: Place{"lab", "out", "job"}}
	vols := []*Volume{
		NewVolume("both", &Mirror{}, in, out, []string{PipelineStart}, []string{PipelineEnd}),
		// No moment, no transfer: a read-only mirror pulls and never pushes.
		NewVolume("shared", &Mirror{}, in, out, []string{PipelineStart}, nil),
		NewVolume("idle", &Mirror{}, in, out, nil, nil),
		NewVolume("each", &Mirror{}, in, out, []string{ContainerStart}, []string{ContainerEnd, PipelineEnd}),
		NewVolume("live", &Mirror{}, nil, out, nil, []string{Changes}),
		NewVolume("inputs", &Mirror{}, in, nil, []string{PipelineStart, PipelineEnd}, nil),
	}
	tests := []struct {
		moment string
		want   []string
	}{
		{PipelineStart, []string{"volume both: pull from lab/in", "volume shared: pull from lab/in", "volume inputs: pull from lab/in"}},
		{ContainerStart, []string{"volume each: pull from lab/in"}},
		{ContainerEnd, []string{"volume each: push to lab/out/job"}},
		{PipelineEnd, []string{"volume inputs: pull from lab/in", "volume both: push to lab/out/job", "volume each: push to lab/out/job", "volume live: push to lab/out/job"}},
	}
	for _, tt := range tests {
		var got []string
		for _, s := range StepsAt(vols, tt.moment) {
			got = append(got, s.String())
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("StepsAt(%s) = %q, want %q", tt.moment, got, tt.want)
		}
	}
	var watching []string
	for _, v := range vols {
		if v.Watches() {
			watching = append(watching, v.Name)
		}
	}
	if !reflect.DeepEqual(watching, []string{"live"}) {
		t.Errorf("watching %q, want [live]", watching)
	}
}

func TestResolve(t *testing.T) {
	clients := map[string]*Client{"lab": {Alias: "lab"}}
	if tg, err := Resolve("lab/b/p", clients); err != nil || tg.Place != (Place{"lab", "b", "p"}) {
		t.Errorf("Resolve(lab/b/p) = %+v, %v", tg, err)
	}
	if _, err := Resolve("other/b", clients); err == nil || !strings.Contains(err.Error(), "alias other") {
		t.Errorf("Resolve of an unknown alias: %v, want an error naming it", err)
	}
}
