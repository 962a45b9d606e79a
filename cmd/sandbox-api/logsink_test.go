package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// gateWriter blocks every Write until open is closed.
type gateWriter struct {
	open chan struct{}
	mu   sync.Mutex
	buf  bytes.Buffer
}

func (g *gateWriter) Write(p []byte) (int, error) {
	<-g.open
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gateWriter) String() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

func TestLogSinkNeverBlocksAndCountsDrops(t *testing.T) {
	out := &gateWriter{open: make(chan struct{})}
	s := newLogSink(out, 100)
	// The writes end while the output stays stalled: were one to block,
	// it would block for good.
	written := make(chan struct{})
	go func() {
		defer close(written)
		for i := 0; i < 50; i++ { // 10 bytes each: the first batch, then 100 bytes queued, the rest dropped
			fmt.Fprintf(s, "line %03d\n", i)
		}
	}()
	testsupport.Receive(t, written, "50 writes into a stalled sink to return")
	if err := s.syncWithin(50 * time.Millisecond); err == nil {
		t.Fatal("Sync succeeded while the output was stalled")
	}
	close(out.open)
	if err := s.syncWithin(testsupport.HangGuard); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
	// What was kept comes out in order, then one report of the rest.
	var kept, last, dropped int = 0, -1, 0
	for _, l := range lines {
		var n int
		if _, err := fmt.Sscanf(l, "line %d", &n); err == nil {
			if n <= last {
				t.Fatalf("line %d after line %d:\n%s", n, last, got)
			}
			last, kept = n, kept+1
			continue
		}
		var e struct {
			Msg     string
			Dropped int
		}
		if err := json.Unmarshal([]byte(l), &e); err != nil || !strings.HasPrefix(e.Msg, "log lines dropped") {
			t.Fatalf("unexpected line %q", l)
		}
		dropped += e.Dropped
	}
	if kept == 0 || kept >= 50 {
		t.Fatalf("%d lines kept of 50 with a 100-byte buffer:\n%s", kept, got)
	}
	if kept+dropped != 50 {
		t.Fatalf("%d lines kept and %d reported dropped, want 50 in all:\n%s", kept, dropped, got)
	}
}

// TestLogSinkBatchesWithoutHoldingLines: a lone line goes out once its
// delay is over, with no Sync; a burst goes out without waiting; Sync
// writes at once whatever waits.
func TestLogSinkBatchesWithoutHoldingLines(t *testing.T) {
	t.Run("a lone line goes out after the delay", func(t *testing.T) {
		out := &testsupport.LogBuffer{}
		s := newLogSink(out, logSinkSize)
		fmt.Fprintln(s, "alone")
		testsupport.Until(t, "the lone line written", func() bool { return out.String() == "alone\n" })
	})
	t.Run("a burst goes out without the timer", func(t *testing.T) {
		out := &testsupport.LogBuffer{}
		s := newLogSink(out, logSinkSize)
		s.delay = time.Hour // a wait for the timer would fail the hang guard
		line := strings.Repeat("x", 1023) + "\n"
		for written := 0; written < logFlushEarly; written += len(line) {
			fmt.Fprint(s, line)
		}
		testsupport.Until(t, "the burst written", func() bool { return len(out.String()) >= logFlushEarly })
	})
	t.Run("Sync writes what waits", func(t *testing.T) {
		out := &testsupport.LogBuffer{}
		s := newLogSink(out, logSinkSize)
		s.delay = time.Hour
		fmt.Fprintln(s, "before exit")
		if err := s.syncWithin(testsupport.HangGuard); err != nil {
			t.Fatal(err)
		}
		if got := out.String(); got != "before exit\n" {
			t.Fatalf("Sync returned with %q written", got)
		}
	})
}
