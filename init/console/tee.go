package console

import "io"

type tee []io.Writer

// Tee returns a writer that writes to every w. Unlike io.MultiWriter it
// goes on past a failing writer: a console that fails (an unplugged
// serial adapter) must not silence the others.
func Tee(w ...io.Writer) io.Writer { return tee(w) }

func (t tee) Write(p []byte) (int, error) {
	var firstErr error
	ok := false
	for _, w := range t {
		if _, err := w.Write(p); err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		ok = true
	}
	if ok {
		return len(p), nil
	}
	return 0, firstErr
}
