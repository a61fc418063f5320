package guestconsole

import (
	"testing"
)

// A console as the agent writes it (init/console), trimmed: flat
// sections, the container's output inside container_run.
var console = []struct {
	raw  string
	kind Kind
	text string
}{
	{"[    0.000000] Linux version 6.12.0 (b2c@b2c)", Other, "[    0.000000] Linux version 6.12.0 (b2c@b2c)"},
	{"\x1b[0Ksection_end:1764636000:b2c_kernel_boot\r\x1b[0K", Other, ""},
	{"\x1b[0Ksection_start:1764636000:b2c_setup[collapsed=true]\r\x1b[0K[   1.20]: Setting up", Other, "[   1.20]: Setting up"},
	{"\x1b[0Ksection_end:1764636000:b2c_setup\r\x1b[0K", Other, ""},
	{"[   1.30]: WARNING: b2c.frob=1: unknown option, ignored", Other, "[   1.30]: WARNING: b2c.frob=1: unknown option, ignored"},
	{"hello outside a container", Other, "hello outside a container"},
	{"[   4.10]: About to start executing a container (stage 1/1): alpine echo hi", Other, "[   4.10]: About to start executing a container (stage 1/1): alpine echo hi"},
	{"\x1b[0Ksection_start:1764636004:execute_hooks[collapsed=true]\r\x1b[0K[   4.10]: Transferring the volumes at container_start\r", Other, "[   4.10]: Transferring the volumes at container_start"},
	{"\x1b[0Ksection_end:1764636004:execute_hooks\r\x1b[0K\r", Other, ""},
	{"\x1b[0Ksection_start:1764636004:create_container[collapsed=true]\r\x1b[0K[   4.20]: Pulling and creating the container\r", Other, "[   4.20]: Pulling and creating the container"},
	{"[   5.00]: Pulled alpine (policy always) in 0.80s\r", Other, "[   5.00]: Pulled alpine (policy always) in 0.80s"},
	{"\x1b[0Ksection_end:1764636005:create_container\r\x1b[0K\r", Other, ""},
	{"\x1b[0Ksection_start:1764636005:container_run\r\x1b[0K[   5.10]: Running alpine echo hi", Other, "[   5.10]: Running alpine echo hi"},
	{"hi\r", Output, "hi"},
	{"[    5.123456] overlayfs: upper fs does not support tmpfile.", Other, "[    5.123456] overlayfs: upper fs does not support tmpfile."},
	{"", Output, ""},
	{"10%\r100%", Output, "100%"},
	{"\x1b[0Ksection_end:1764636005:container_run\r\x1b[0K", Other, ""},
	{"[   5.20]: ERROR: The container \"alpine\" could not run: attach alpine: EOF", Error, "[   5.20]: ERROR: The container \"alpine\" could not run: attach alpine: EOF"},
	{"\x1b[0Ksection_start:1764636005:b2c_post_container[collapsed=true]\r\x1b[0K[   5.25]: Gathering the container's results", Other, "[   5.25]: Gathering the container's results"},
	{"[   5.30]: The container exited with code 7", Other, "[   5.30]: The container exited with code 7"},
	{"\x1b[0Ksection_end:1764636005:b2c_post_container\r\x1b[0K", Other, ""},
	{"after the container", Other, "after the container"},
	{"[   5.40]: Execution is over, pipeline status: 7", End, "[   5.40]: Execution is over, pipeline status: 7"},
	{"It's now safe to turn off your computer", Other, "It's now safe to turn off your computer"},
}

func TestReader(t *testing.T) {
	var r Reader
	if _, ok := r.Status(); ok {
		t.Errorf("Status before the end: ok")
	}
	for _, l := range console {
		kind, text := r.Line(l.raw)
		if kind != l.kind || text != l.text {
			t.Errorf("Line(%q) = %d, %q; want %d, %q", l.raw, kind, text, l.kind, l.text)
		}
	}
	if st, ok := r.Status(); !ok || st != 7 {
		t.Errorf("Status() = %d, %v; want 7, true", st, ok)
	}
}
