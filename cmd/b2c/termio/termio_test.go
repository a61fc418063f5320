package termio

import (
	"bytes"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestEscaper(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		stopped  bool
	}{
		{"echo hi\r\x03", "echo hi\r\x03", false},
		{"a\x1d\x1db", "a\x1db", false},
		{"a\x1dxb", "a\x1dxb", false},
		{"ls\x1dqrest", "ls", true},
	} {
		stopped := false
		e := &escaper{r: strings.NewReader(tc.in), stop: func() { stopped = true }}
		got, _ := io.ReadAll(e)
		if string(got) != tc.want || stopped != tc.stopped {
			t.Errorf("%q: passed %q (stopped %t), want %q (%t)", tc.in, got, stopped, tc.want, tc.stopped)
		}
	}
	// The escape split across two reads.
	stopped := false
	e := &escaper{r: io.MultiReader(strings.NewReader("x\x1d"), strings.NewReader("q")), stop: func() { stopped = true }}
	if got, _ := io.ReadAll(e); string(got) != "x" || !stopped {
		t.Errorf("split escape: passed %q, stopped %t", got, stopped)
	}
}

// The ports as QEMU uses them: it connects to each socket; the guest's
// output comes back byte for byte, and the input's end closes the input.
func TestSession(t *testing.T) {
	dir := t.TempDir()
	s, ports, err := Listen(dir, true, false)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if len(ports) != 2 || ports[0].Name != "b2c.stdout" || ports[1].Name != "b2c.stdin" || filepath.Dir(ports[0].Socket) != dir {
		t.Fatalf("ports %+v", ports)
	}
	inR, inW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := s.Serve(t.Context(), inR, &out, false, func() {}); err != nil {
		t.Fatal(err)
	}
	guestOut, err := net.Dial("unix", ports[0].Socket)
	if err != nil {
		t.Fatal(err)
	}
	guestIn, err := net.Dial("unix", ports[1].Socket)
	if err != nil {
		t.Fatal(err)
	}
	inW.Write([]byte("a\x00b\n"))
	inW.Close()
	got, err := io.ReadAll(guestIn)
	if err != nil || string(got) != "a\x00b\n" {
		t.Errorf("the guest read %q, %v", got, err)
	}
	guestOut.Write([]byte("1\r\n2\x00"))
	guestOut.Close()
	s.Wait(5 * time.Second)
	if out.String() != "1\r\n2\x00" {
		t.Errorf("stdout got %q", out.String())
	}
}
