package vm

import (
	"bytes"
	"io"
	"sync"
)

// Logger is what TestLog needs of a *testing.T.
type Logger interface {
	Log(args ...any)
}

// TestLog returns a writer that logs each line written to it with t.Log,
// so the console streams into the test log as it arrives (go test -v).
func TestLog(t Logger) io.Writer { return &testLog{t: t} }

type testLog struct {
	t   Logger
	mu  sync.Mutex
	buf []byte
}

func (w *testLog) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.t.Log(string(w.buf[:i]))
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}
