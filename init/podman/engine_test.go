package podman

import (
	"errors"
	"testing"

	"github.com/containers/common/pkg/config"
)

func TestPermanentPullError(t *testing.T) {
	for _, tt := range []struct {
		err  string
		want bool
	}{
		{"initializing source docker://x: reading manifest latest in 10.0.2.2:5000/x: manifest unknown", true},
		{"name unknown: repository name not known to registry", true},
		{"unauthorized: authentication required", true},
		{"pinging container registry r.lab: Get \"https://r.lab/v2/\": dial tcp: lookup r.lab: no such host", false},
		{"pinging container registry 10.0.2.2:5000: Get \"http://10.0.2.2:5000/v2/\": dial tcp 10.0.2.2:5000: connect: connection refused", false},
		{"reading blob sha256:abc: unexpected EOF", false},
		{"net/http: TLS handshake timeout", false},
	} {
		if got := permanentPullError(errors.New(tt.err)); got != tt.want {
			t.Errorf("permanentPullError(%q) = %v, want %v", tt.err, got, tt.want)
		}
	}
}

func TestEffectivePolicy(t *testing.T) {
	tests := []struct {
		policy config.PullPolicy
		cached bool
		want   config.PullPolicy
	}{
		{config.PullPolicyAlways, false, config.PullPolicyAlways},
		{config.PullPolicyAlways, true, config.PullPolicyNewer},
		{config.PullPolicyMissing, true, config.PullPolicyMissing},
		{config.PullPolicyNever, true, config.PullPolicyNever},
		{config.PullPolicyNewer, false, config.PullPolicyNewer},
	}
	for _, tt := range tests {
		if got := effectivePolicy(tt.policy, tt.cached); got != tt.want {
			t.Errorf("effectivePolicy(%s, cached=%v) = %s, want %s", tt.policy, tt.cached, got, tt.want)
		}
	}
}
