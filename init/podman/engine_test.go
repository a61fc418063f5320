package podman

import (
	"errors"
	"testing"
	"time"

	"github.com/containers/common/pkg/config"
	"github.com/containers/podman/v4/libpod/define"
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

func TestClockHint(t *testing.T) {
	expired := errors.New("x509: certificate has expired or is not yet valid: current time 2001-01-01T00:00:05Z is before 2026-12-02T19:00:00Z")
	for _, tc := range []struct {
		err  error
		now  time.Time
		want string
	}{
		{expired, time.Date(2001, 1, 1, 0, 0, 5, 0, time.UTC), " (this machine's clock says 2001-01-01 00:00:05 UTC: b2c.ntp_peer sets it)"},
		{expired, time.Date(2026, 12, 2, 0, 0, 0, 0, time.UTC), ""}, // a plausible clock: the certificate is wrong
		{errors.New("manifest unknown"), time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC), ""},
	} {
		if got := clockHint(tc.err, tc.now); got != tc.want {
			t.Errorf("clockHint(%v, %s) = %q, want %q", tc.err, tc.now, got, tc.want)
		}
	}
}

func TestExited(t *testing.T) {
	for _, c := range []struct {
		state *define.InspectContainerState
		code  int32
		ok    bool
	}{
		{nil, 0, false},
		{&define.InspectContainerState{Status: "running", Running: true}, 0, false},
		{&define.InspectContainerState{Status: "created"}, 0, false},
		{&define.InspectContainerState{Status: "paused", Paused: true}, 0, false},
		// conmon's exit file read, `podman container cleanup` not done yet
		{&define.InspectContainerState{Status: "stopped", ExitCode: 7}, 7, true},
		{&define.InspectContainerState{Status: "exited", ExitCode: 137}, 137, true},
		{&define.InspectContainerState{Status: "exited"}, 0, true},
	} {
		code, ok := exited(c.state)
		if code != c.code || ok != c.ok {
			t.Errorf("exited(%+v) = %d, %v; want %d, %v", c.state, code, ok, c.code, c.ok)
		}
	}
}
