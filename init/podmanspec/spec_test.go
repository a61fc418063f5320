package podmanspec

import (
	"reflect"
	"testing"

	"github.com/containers/image/v5/types"
	"github.com/containers/podman/v4/pkg/specgen"

	"github.com/b2c-dev/b2c/init/cmdline"
)

func TestParse(t *testing.T) {
	for _, tt := range []struct {
		value string
		check func(r *Request) bool
	}{
		{"docker://alpine echo hi", func(r *Request) bool {
			return r.Image == "alpine" && reflect.DeepEqual(r.Spec.Command, []string{"echo", "hi"}) &&
				r.Spec.Privileged && r.Spec.NetNS.NSMode == specgen.Host && r.PullPolicy.String() == "always"
		}},
		{"alpine", func(r *Request) bool {
			// Resource limits that crun refuses on cgroup v2 when set
			// (memory swappiness) stay unset unless asked for.
			return r.Spec.ResourceLimits == nil || r.Spec.ResourceLimits.Memory == nil || r.Spec.ResourceLimits.Memory.Swappiness == nil
		}},
		{"-ti docker://alpine sh", func(r *Request) bool { return r.Interactive && r.TTY && r.Spec.Terminal && r.Spec.Stdin }},
		{"-e A=b -e 'C=d e' -w /tmp --entrypoint sh alpine", func(r *Request) bool {
			return r.Spec.Env["A"] == "b" && r.Spec.Env["C"] == "d e" && r.Spec.WorkDir == "/tmp" &&
				reflect.DeepEqual(r.Spec.Entrypoint, []string{"sh"})
		}},
		{"-v /dev:/host/dev alpine", func(r *Request) bool {
			return len(r.Spec.Mounts) == 1 && r.Spec.Mounts[0].Destination == "/host/dev"
		}},
		{"-v cache:/cache alpine", func(r *Request) bool {
			return len(r.Spec.Volumes) == 1 && r.Spec.Volumes[0].Name == "cache"
		}},
		{"--tls-verify=false 10.0.2.2:5000/busybox", func(r *Request) bool {
			return r.SkipTLSVerify == types.OptionalBoolTrue && r.Image == "10.0.2.2:5000/busybox"
		}},
		{"--dns=none alpine", func(r *Request) bool { return reflect.DeepEqual(r.Spec.DNSServers, nil) || len(r.Spec.DNSServers) == 0 }},
		{"--pid=host alpine", func(r *Request) bool { return r.Spec.PidNS.NSMode == specgen.Host }},
		{"--network=none alpine", func(r *Request) bool { return r.Spec.NetNS.NSMode == specgen.NoNetwork }},
		{"--privileged=false alpine", func(r *Request) bool { return !r.Spec.Privileged }},
		{"--pull=missing alpine", func(r *Request) bool { return r.PullPolicy.String() == "missing" }},
		{"alpine sh -c 'exit 3' --not-a-flag", func(r *Request) bool {
			return reflect.DeepEqual(r.Spec.Command, []string{"sh", "-c", "exit 3", "--not-a-flag"})
		}},
	} {
		c, err := cmdline.ParseContainer(tt.value)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Parse(c.Args)
		if err != nil {
			t.Errorf("Parse(%q) = %v", tt.value, err)
			continue
		}
		if !tt.check(r) {
			t.Errorf("Parse(%q) = %+v; spec %+v: check failed", tt.value, r, r.Spec)
		}
	}
}

func TestParseInvalid(t *testing.T) {
	for _, v := range [][]string{
		{"--no-such-flag", "alpine"},
		{"--privileged"},
		{"--network=host", "--network=none", "alpine"},
		{"--pull=sometimes", "alpine"},
		{"--cpus=1", "--cpu-period=5", "alpine"},
	} {
		if r, err := Parse(v); err == nil {
			t.Errorf("Parse(%q) = %+v, want an error", v, r)
		}
	}
}
