package podmanargs

import (
	"reflect"
	"testing"
)

func TestFinalArgs(t *testing.T) {
	for _, tt := range []struct{ in, want []string }{
		{[]string{"alpine", "echo"}, []string{"--privileged=true", "--network=host", "--pull=always", "alpine", "echo"}},
		{[]string{"--net=none", "--pull", "never", "alpine"}, []string{"--privileged=true", "--net=none", "--pull", "never", "alpine"}},
		{[]string{"alpine", "--network=none"}, []string{"--privileged=true", "--network=host", "--pull=always", "alpine", "--network=none"}},
	} {
		got, err := FinalArgs(tt.in)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("FinalArgs(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSplit(t *testing.T) {
	for _, tt := range []struct {
		in      []string
		flags   []string
		image   string
		command []string
	}{
		{[]string{"alpine"}, []string{}, "alpine", []string{}},
		{[]string{"-e", "A=1", "--rm", "-v", "/a:/b", "alpine", "sh", "-c", "echo -e hi"},
			[]string{"-e", "A=1", "--rm", "-v", "/a:/b"}, "alpine", []string{"sh", "-c", "echo -e hi"}},
		{[]string{"--env=A=1", "--", "alpine", "-v"}, []string{"--env=A=1"}, "alpine", []string{"-v"}},
		{[]string{"-ti", "docker://alpine", "--", "x"}, []string{"-ti"}, "docker://alpine", []string{"--", "x"}},
	} {
		flags, image, command, err := Split(tt.in)
		if err != nil || !reflect.DeepEqual(flags, tt.flags) || image != tt.image || !reflect.DeepEqual(command, tt.command) {
			t.Errorf("Split(%q) = %q, %q, %q, %v; want %q, %q, %q", tt.in, flags, image, command, err, tt.flags, tt.image, tt.command)
		}
	}
	for _, in := range [][]string{{"--no-such-flag", "alpine"}, {"-e", "A=1"}, {}} {
		if _, _, _, err := Split(in); err == nil {
			t.Errorf("Split(%q) gives no error", in)
		}
	}
}

func TestCheck(t *testing.T) {
	for _, tt := range []struct {
		args []string
		want string // the error, "" for none
	}{
		{[]string{"-ti", "--net=none", "docker://alpine", "sh", "--dns=x"}, ""},
		{[]string{"--memory=abc", "alpine"}, ""}, // a value podmanspec checks
		{[]string{"--no-such-flag", "alpine"}, "podman create flags: unknown flag: --no-such-flag"},
		{[]string{"-e", "A=1"}, "no image given"},
		{[]string{"--oom-score-adj=high", "alpine"}, `podman create flags: invalid argument "high" for "--oom-score-adj" flag: strconv.ParseInt: parsing "high": invalid syntax`},
		{[]string{"--cpus=1", "--cpu-period=5", "alpine"}, "--cpu-period and --cpus cannot be set together"},
		{[]string{"--dns=1.1.1.1", "--net=container:x", "alpine"}, "conflicting options: dns and the network mode container"},
		{[]string{"--gidmap=0:1:1", "--userns=host", "alpine"}, "--userns and --uidmap/--gidmap/--subuidname/--subgidname are mutually exclusive"},
		{[]string{"--pull=sometimes", "alpine"}, `--pull: unsupported pull policy "sometimes"`},
	} {
		got := ""
		if err := Check(tt.args); err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("Check(%q) = %q, want %q", tt.args, got, tt.want)
		}
	}
}

// TestTableTypes fails when the generated table has a flag type that
// flagSet cannot define.
func TestTableTypes(t *testing.T) {
	if _, err := flagSet(CreateFlags()); err != nil {
		t.Errorf("flagSet(CreateFlags()) = %v", err)
	}
	if _, err := flagSet([]Flag{{Name: "x", Type: "ipNet"}}); err == nil {
		t.Errorf("flagSet with an ipNet flag gives no error")
	}
}

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		args   []string
		i, tty bool
	}{
		{nil, false, false},
		{[]string{"-ti"}, true, true},
		{[]string{"-i"}, true, false},
		{[]string{"--tty", "--interactive=false"}, false, true},
		{[]string{"-e", "A=-t", "--rm"}, false, false},
	} {
		args := append(tc.args, "alpine", "sh", "-t")
		i, err1 := Bool(args, "interactive")
		tty, err2 := Bool(args, "tty")
		if err1 != nil || err2 != nil || i != tc.i || tty != tc.tty {
			t.Errorf("Bool(%q) = -i %t -t %t (%v, %v), want %t %t", tc.args, i, tty, err1, err2, tc.i, tc.tty)
		}
	}
}
