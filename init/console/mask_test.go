package console

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestMaskStream(t *testing.T) {
	secrets := []string{"s3cr3t-key", "p@ss"}
	for _, tt := range []struct {
		name      string
		buf       string
		out, held string
	}{
		{"nothing", "hello\n", "hello\n", ""},
		{"whole", "key=s3cr3t-key!\n", "key=*****!\n", ""},
		{"two", "p@ss and s3cr3t-key", "***** and *****", ""},
		{"start of one", "key=s3cr", "key=", "s3cr"},
		{"start of another", "user:p@", "user:", "p@"},
		{"ends like none", "key=s3x", "key=s3x", ""},
		{"longest start held", "s3cr3t-ke", "", "s3cr3t-ke"},
	} {
		out, held := maskStream([]byte(tt.buf), secrets)
		if string(out) != tt.out || string(held) != tt.held {
			t.Errorf("%s: maskStream(%q) = %q, %q; want %q, %q", tt.name, tt.buf, out, held, tt.out, tt.held)
		}
	}
}

// syncBuffer is a bytes.Buffer safe for the flush timer's goroutine.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestWriterMasksSplitSecrets: a secret that comes in pieces, across
// writes, never reaches the console; what was held back comes out once no
// more bytes follow.
func TestWriterMasksSplitSecrets(t *testing.T) {
	var out syncBuffer
	c := New(&out, func() time.Duration { return 0 }, time.Now)
	c.Redact("s3cr3t-key")
	w := c.Writer()
	for _, p := range []string{"cmdline: b2c.minio=lab,url,s3c", "r3t", "-key,other", " end s3"} {
		if n, err := w.Write([]byte(p)); n != len(p) || err != nil {
			t.Fatalf("Write(%q) = %d, %v", p, n, err)
		}
	}
	const want = "cmdline: b2c.minio=lab,url,*****,other end s3"
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != want && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := out.String(); got != want {
		t.Errorf("console = %q, want %q", got, want)
	}
	if strings.Contains(out.String(), "r3t-") {
		t.Errorf("a piece of the secret reached the console: %q", out.String())
	}
}

// TestEndNeverMasked: a short secret does not change the end-of-run
// lines, which labs match byte for byte.
func TestEndNeverMasked(t *testing.T) {
	var out bytes.Buffer
	c := New(&out, func() time.Duration { return 10380 * time.Millisecond }, time.Now)
	c.Redact("0")
	c.End(0, false)
	const want = "[  10.38]: Execution is over, pipeline status: 0\nIt's now safe to turn off your computer\n"
	if out.String() != want {
		t.Errorf("End = %q, want %q", out.String(), want)
	}
}

func TestWriterToMasks(t *testing.T) {
	c, console := newTest()
	c.Redact("s3cret")
	var port bytes.Buffer
	w := c.WriterTo(&port)
	w.Write([]byte("a\x00b s3c"))
	w.Write([]byte("ret\r\n"))
	if got := port.String(); got != "a\x00b *****\r\n" {
		t.Errorf("port got %q", got)
	}
	if console.Len() != 0 {
		t.Errorf("the console got %q", console.String())
	}
}
