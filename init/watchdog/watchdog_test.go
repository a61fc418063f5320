package watchdog

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

func TestReporter(t *testing.T) {
	var buf bytes.Buffer
	r := NewReporter(&buf)
	r.Section("") // the first line closes b2c_kernel_boot
	r.Section("connect")
	r.Kick("connect")
	r.Kick("ntp_set") // not the current step: no progress of it
	r.KickCurrent()
	r.Section("")
	r.SetTimeout(10 * time.Minute)
	r.Section("container_run")
	r.Status(3, true)
	r.Ended(90 * time.Second)
	want := strings.Join([]string{
		"step 0 120000 start",
		"step 0 300000 connect",
		"kick",
		"kick",
		"step 0 120000 after connect",
		"step 120000 720000 container_run",
		"status 3 true",
		"ended 90000",
		"",
	}, "\n")
	if got := buf.String(); got != want {
		t.Errorf("reported:\n%s\nwant:\n%s", got, want)
	}
	var nilReporter *Reporter
	nilReporter.Section("connect") // an unwatched agent: no panic
	nilReporter.Kick("connect")
}

func TestState(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	type msg struct {
		at   float64
		line string
	}
	for _, tc := range []struct {
		name   string
		msgs   []msg
		check  float64 // when Overdue is asked
		want   string  // part of its message, "" for none
		code   int
		reboot bool
		ended  bool
	}{
		{name: "silent agent", check: 59, code: 1},
		{name: "agent that never reports", check: 60, want: `step "start" did not end within 1m0s`, code: 1},
		{name: "step within its total", msgs: []msg{{1, "step 0 300000 connect"}}, check: 300, code: 1},
		{name: "step past its total", msgs: []msg{{1, "step 0 300000 connect"}}, check: 301, want: `step "connect" did not end within 5m0s`, code: 1},
		{name: "kicked step", msgs: []msg{{0, "step 120000 0 create_container"}, {100, "kick"}, {200, "kick"}}, check: 319, code: 1},
		{name: "stalled step", msgs: []msg{{0, "step 120000 0 create_container"}, {100, "kick"}}, check: 220, want: `step "create_container" made no progress for 2m0s`, code: 1},
		{name: "kicks do not extend a total", msgs: []msg{{0, "step 120000 600000 container_run"}, {590, "kick"}}, check: 600, want: "did not end within 10m0s", code: 1},
		{name: "unbounded step", msgs: []msg{{0, "step 0 0 odd"}}, check: 1e6, code: 1},
		{name: "final status", msgs: []msg{{0, "status 3 true"}, {0, "step 0 300000 cleanup"}}, check: 400, want: `"cleanup"`, code: 3, reboot: true},
		{name: "ended", msgs: []msg{{0, "status 0 false"}, {0, "ended 60000"}}, check: 60, want: `"shutdown"`, code: 0, ended: true},
		{name: "abort", msgs: []msg{{0, "step 120000 0 container_run"}, {5, "abort b2c.filesystem store: the NFS server is gone"}}, check: 6, want: "b2c.filesystem store: the NFS server is gone", code: 1},
		{name: "abort after the status", msgs: []msg{{0, "status 0 false"}, {1, "abort gone"}}, check: 2, want: "gone", code: 0},
		{name: "bad messages change nothing", msgs: []msg{{0, "step x 0 a"}, {0, "status"}, {0, "hello"}}, check: 10, code: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := NewState(t0)
			for _, m := range tc.msgs {
				s.Apply(m.line, at(m.at))
			}
			got := s.Overdue(at(tc.check))
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("Overdue = %q, want %q", got, tc.want)
			}
			if s.Code != tc.code || s.Reboot != tc.reboot || s.Ended != tc.ended {
				t.Errorf("code %d reboot %t ended %t, want %d %t %t", s.Code, s.Reboot, s.Ended, tc.code, tc.reboot, tc.ended)
			}
		})
	}
}

func TestApplyErrors(t *testing.T) {
	s := NewState(time.Unix(0, 0))
	for _, l := range []string{"step 1", "step -1 0 x", "status a false", "ended", "abort", "what"} {
		if err := s.Apply(l, time.Unix(1, 0)); err == nil {
			t.Errorf("Apply(%q) = nil, want an error", l)
		}
	}
	if err := s.Apply("", time.Unix(1, 0)); err != nil {
		t.Errorf("Apply(\"\") = %v", err)
	}
}

func TestNetBytes(t *testing.T) {
	const dev = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 3650769977  482791    0    0    0     0          0         0 3650769977  482791    0    0    0     0       0          0
  eth0:    1000      10    0    0    0     0          0         0      200       2    0    0    0     0       0          0
  eth1:      30       1    0    0    0     0          0         0        4       1    0    0    0     0       0          0
`
	if got := NetBytes(dev); got != 1234 {
		t.Errorf("NetBytes = %d, want 1234 (lo left out)", got)
	}
	if got := NetBytes(""); got != 0 {
		t.Errorf("NetBytes(\"\") = %d", got)
	}
}

func TestBounds(t *testing.T) {
	for _, tc := range []struct {
		section     string
		timeout     time.Duration
		idle, total time.Duration
	}{
		{"create_container", 0, 2 * time.Minute, 0},
		{"container_run", 0, 2 * time.Minute, 0},
		{"container_run", time.Hour, 2 * time.Minute, time.Hour + Grace},
		{"mount_cache_partition", 0, 0, 30 * time.Minute},
		{"", 0, 0, 2 * time.Minute},
	} {
		idle, total := Bounds(tc.section, tc.timeout)
		if idle != tc.idle || total != tc.total {
			t.Errorf("Bounds(%q, %s) = %s, %s, want %s, %s", tc.section, tc.timeout, idle, total, tc.idle, tc.total)
		}
	}
}

func TestIOBytes(t *testing.T) {
	const io = "rchar: 1000\nwchar: 234\nsyscr: 5\nsyscw: 6\nread_bytes: 4096\nwrite_bytes: 0\ncancelled_write_bytes: 0\n"
	if got := IOBytes(io); got != 1234 {
		t.Errorf("IOBytes = %d, want 1234", got)
	}
}

func TestOpened(t *testing.T) {
	for _, tt := range []struct {
		env  string
		want time.Duration
		ok   bool
	}{
		{"2200000000", 2200 * time.Millisecond, true},
		{"", 0, false},
		{"0", 0, false},
		{"soon", 0, false},
	} {
		t.Setenv(EnvOpened, tt.env)
		got, ok := Opened()
		if got != tt.want || ok != tt.ok {
			t.Errorf("Opened() with %s=%q = %v, %v; want %v, %v", EnvOpened, tt.env, got, ok, tt.want, tt.ok)
		}
		if v, set := os.LookupEnv(EnvOpened); set {
			t.Errorf("%s=%q still set: children would inherit it", EnvOpened, v)
		}
	}
}
