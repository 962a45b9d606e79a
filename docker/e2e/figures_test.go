//go:build e2eimage

package e2e

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// figures collects the numbers the closing note asks for, printed in one
// block at the end so they are easy to find in a long log.
type figures struct {
	mu    sync.Mutex
	lines []string
}

func (f *figures) add(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lines = append(f.lines, fmt.Sprintf(format, args...))
}

func (f *figures) log(t *testing.T) {
	f.mu.Lock()
	defer f.mu.Unlock()
	t.Logf("summary of the figures:\n  %s", strings.Join(f.lines, "\n  "))
}

func mib(n int64) string { return fmt.Sprintf("%.1f MiB (%d bytes)", float64(n)/(1<<20), n) }

func ms(d time.Duration) string { return fmt.Sprintf("%d ms", d.Milliseconds()) }
