package testsupport

import (
	"bytes"
	"sync"
)

// LogBuffer collects what a child process writes (a daemon's log) while
// the test reads it. With Bound > 0 it keeps about Bound bytes at most:
// past that, all but the last quarter is cut, and a line says so.
type LogBuffer struct {
	Bound int

	mu  sync.Mutex
	buf bytes.Buffer
}

// cutNote replaces what a bounded LogBuffer cut.
const cutNote = "[... earlier output cut ...]\n"

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.Bound > 0 && b.buf.Len() > b.Bound {
		tail := append([]byte(nil), b.buf.Bytes()[b.buf.Len()-b.Bound/4:]...)
		b.buf.Reset()
		b.buf.WriteString(cutNote)
		b.buf.Write(tail)
	}
	return b.buf.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
