package podmanspec

import (
	"testing"

	"github.com/containers/common/pkg/config"
	"github.com/containers/podman/v4/cmd/podman/utils"

	"github.com/b2c-dev/b2c/init/podmanargs"
)

const regenerate = "podmanargs' table is not podman's: run `go generate ./init/podmanargs` and commit init/podmanargs/createflags.go"

// TestFlagTable fails when podmanargs' checked-in table of flags differs
// from podman's definitions, as after a podman upgrade.
func TestFlagTable(t *testing.T) {
	got := map[string]podmanargs.Flag{}
	for _, f := range podmanargs.CreateFlags() {
		got[f.Name] = f
	}
	want := Flags()
	for _, w := range want {
		g, ok := got[w.Name]
		switch {
		case !ok:
			t.Errorf("--%s: missing, want %+v; %s", w.Name, w, regenerate)
		case g != w:
			t.Errorf("--%s = %+v, want %+v; %s", w.Name, g, w, regenerate)
		}
		delete(got, w.Name)
	}
	for _, g := range got {
		t.Errorf("--%s: podman has no such flag; %s", g.Name, regenerate)
	}
	if len(want) < 100 {
		t.Errorf("podman defines %d flags for podman create, want over 100", len(want))
	}
}

func TestAliases(t *testing.T) {
	for old, name := range podmanargs.Aliases() {
		if got := string(utils.AliasFlags(nil, old)); got != name {
			t.Errorf("podman's AliasFlags(%q) = %q, podmanargs.Aliases has %q", old, got, name)
		}
	}
}

// TestCheck: what podmanargs.Check refuses, Parse refuses with the same
// error; what only podman's spec code refuses, Check lets through.
func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		args []string
		deep bool // only Parse refuses it
	}{
		{[]string{"--no-such-flag", "alpine"}, false},
		{[]string{"--privileged"}, false},
		{[]string{"-e"}, false},
		{[]string{}, false},
		{[]string{"--cpus=many", "alpine"}, false},
		{[]string{"--tls-verify=maybe", "alpine"}, false},
		{[]string{"--cpus"}, false},
		{[]string{"-tm", "alpine"}, false}, // -m takes a value
		{[]string{"--cpus=1", "--cpu-period=5", "alpine"}, false},
		{[]string{"--cpu-quota=5", "--cpus=1", "alpine"}, false},
		{[]string{"--userns=host", "--uidmap=0:1:1", "alpine"}, false},
		{[]string{"--subgidname=x", "--userns=keep-id", "alpine"}, false},
		{[]string{"--dns=1.1.1.1", "--network=none", "alpine"}, false},
		{[]string{"--net=none", "--dns-search=x", "alpine"}, false},
		{[]string{"--dns-opt=x", "--network=container:other", "alpine"}, false},
		{[]string{"--pull=sometimes", "alpine"}, false},
		{[]string{"--pull", "Sometimes", "alpine"}, false},
		{[]string{"--memory=abc", "alpine"}, true},
		{[]string{"-v", "/a:/b:nosuchoption", "alpine"}, true},
		{[]string{"--restart=always:3", "alpine"}, true},
		{[]string{"--dns=not-an-ip", "alpine"}, true},
		{[]string{"--add-host=nocolon", "alpine"}, true},
		{[]string{"--network=host", "--network=none", "alpine"}, true},
	} {
		_, perr := Parse(tt.args)
		cerr := podmanargs.Check(tt.args)
		switch {
		case perr == nil:
			t.Errorf("Parse(%q) = nil error, want one (case for Check)", tt.args)
		case tt.deep && cerr != nil:
			t.Errorf("podmanargs.Check(%q) = %v, want nil: podman's spec code checks it (Parse: %v)", tt.args, cerr, perr)
		case !tt.deep && (cerr == nil || cerr.Error() != perr.Error()):
			t.Errorf("podmanargs.Check(%q) = %v, want Parse's %v", tt.args, cerr, perr)
		}
	}
	for _, args := range [][]string{
		{"alpine"},
		{"-ti", "docker://alpine", "sh"},
		{"--privileged=false", "--net=none", "--pull", "never", "alpine"},
		{"--cpus=1.5", "--uidmap=0:1:1", "--dns=1.1.1.1", "alpine", "--cpu-period=5"},
		{"--userns=host", "--dns=1.1.1.1", "--network=bridge", "alpine"},
	} {
		if _, err := Parse(args); err != nil {
			t.Errorf("Parse(%q) = %v, want no error (case for Check)", args, err)
		}
		if err := podmanargs.Check(args); err != nil {
			t.Errorf("podmanargs.Check(%q) = %v, want nil as Parse", args, err)
		}
	}
}

// TestPull: podmanargs.Check accepts the pull policies podman accepts,
// and refuses the others with podman's error.
func TestPull(t *testing.T) {
	for _, p := range []string{"always", "Always", "missing", "Missing", "ifnotpresent", "IfNotPresent", "",
		"newer", "Newer", "ifnewer", "IfNewer", "never", "Never", "ALWAYS", "true", "false", "if-not-present", "sometimes"} {
		var want string
		if _, err := config.ParsePullPolicy(p); err != nil {
			want = "--pull: " + err.Error()
		}
		var got string
		if err := podmanargs.Check([]string{"--pull=" + p, "alpine"}); err != nil {
			got = err.Error()
		}
		if got != want {
			t.Errorf("podmanargs.Check(--pull=%q) = %q, want %q", p, got, want)
		}
	}
}
