package mirror

import (
	"fmt"
	"slices"
)

// The moments of a run at which volumes pull or push.
const (
	PipelineStart  = "pipeline_start"
	ContainerStart = "container_start"
	ContainerEnd   = "container_end"
	PipelineEnd    = "pipeline_end"
	// Changes pushes while the pipeline runs, and once more at its end.
	Changes = "changes"
)

// Volume is a b2c.volume that mirrors a bucket.
type Volume struct {
	Name   string
	Mirror *Mirror
	From   *Target // pull_from (or mirror); nil: none
	To     *Target // push_to (or mirror); nil: none
	PullOn []string
	PushOn []string
}

// NewVolume returns a volume's mirror. It transfers only at the moments
// named: without pull_on it never pulls, without push_on it never pushes.
// That is the original's rule, and labs rely on it: they mirror shared,
// read-only buckets with pull_on alone (often with remove), where a push
// at the pipeline's end would delete what a container removed from the
// shared data.
func NewVolume(name string, m *Mirror, from, to *Target, pullOn, pushOn []string) *Volume {
	return &Volume{Name: name, Mirror: m, From: from, To: to, PullOn: pullOn, PushOn: pushOn}
}

// Watches reports whether the volume pushes its changes as they happen.
func (v *Volume) Watches() bool { return v.To != nil && slices.Contains(v.PushOn, Changes) }

// Step is one pull or push of a volume.
type Step struct {
	Volume *Volume
	Op     Op // Pull or Push
	Target Target
}

func (s Step) String() string {
	if s.Op == Pull {
		return fmt.Sprintf("volume %s: pull from %s", s.Volume.Name, s.Target)
	}
	return fmt.Sprintf("volume %s: push to %s", s.Volume.Name, s.Target)
}

// StepsAt returns what the volumes do at a moment: the pulls, then the
// pushes, each in the volumes' order. At the pipeline's end, a volume
// that pushed its changes pushes a final time.
func StepsAt(vols []*Volume, moment string) []Step {
	var pulls, pushes []Step
	for _, v := range vols {
		if v.From != nil && slices.Contains(v.PullOn, moment) {
			pulls = append(pulls, Step{v, Pull, *v.From})
		}
		if v.To != nil && (slices.Contains(v.PushOn, moment) || moment == PipelineEnd && v.Watches()) {
			pushes = append(pushes, Step{v, Push, *v.To})
		}
	}
	return append(pulls, pushes...)
}

// Resolve finds the target of place (ALIAS/BUCKET[/PATH]) among the
// aliases' clients.
func Resolve(place string, clients map[string]*Client) (*Target, error) {
	p, err := ParsePlace(place)
	if err != nil {
		return nil, err
	}
	c, ok := clients[p.Alias]
	if !ok {
		return nil, fmt.Errorf("%s: no b2c.minio defines the alias %s", place, p.Alias)
	}
	return &Target{Client: c, Place: p}, nil
}
