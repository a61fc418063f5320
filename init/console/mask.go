package console

import (
	"bytes"
	"io"
	"sync"
	"time"
)

// holdFor is how long a stream holds back bytes that may start a secret
// before it writes them anyway: a prompt that happens to end like the
// start of a key still shows, a moment later.
const holdFor = 200 * time.Millisecond

// streamMask masks the console's secrets in output that is not made of
// the agent's own lines: containers (a job that prints /proc/cmdline),
// loadkeys, shutdown_cmd. A secret may come split across two writes, so
// the bytes at the end of a write that could start one are held until
// the next write tells, or until holdFor passes.
type streamMask struct {
	c     *Console
	to    io.Writer // nil: the consoles
	mu    sync.Mutex
	held  []byte
	timer *time.Timer
}

func (m *streamMask) Write(p []byte) (int, error) {
	secrets := m.c.secrets()
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.timer != nil {
		m.timer.Stop()
	}
	buf := append(m.held, p...)
	out, held := maskStream(buf, secrets)
	m.held = append([]byte(nil), held...)
	if len(m.held) > 0 {
		m.timer = time.AfterFunc(holdFor, m.flush)
	}
	m.write(out)
	return len(p), nil
}

func (m *streamMask) write(b []byte) {
	if m.to == nil {
		m.c.writeRaw(b)
	} else if len(b) > 0 {
		m.to.Write(b)
	}
}

// flush writes what was held back.
func (m *streamMask) flush() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.write(m.held)
	m.held = nil
}

// maskStream replaces every secret in buf with "*****", and splits off
// the longest end of it that is the start of a secret: that much must
// wait for the next bytes.
func maskStream(buf []byte, secrets []string) (out, held []byte) {
	for _, s := range secrets {
		buf = bytes.ReplaceAll(buf, []byte(s), []byte("*****"))
	}
	keep := 0
	for _, s := range secrets {
		for n := min(len(s)-1, len(buf)); n > keep; n-- {
			if bytes.HasSuffix(buf, []byte(s[:n])) {
				keep = n
				break
			}
		}
	}
	return buf[:len(buf)-keep], buf[len(buf)-keep:]
}
