package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestStdinEcho(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "cat", Stdin: true})
	if !p.Info().Stdin {
		t.Fatal("record does not say stdin is open")
	}
	ctx := testCtx(t)
	var want strings.Builder
	for i := 0; i < 50; i++ {
		line := fmt.Sprintf("line %d\n", i)
		if err := p.WriteStdin(ctx, []byte(line)); err != nil {
			t.Fatalf("WriteStdin %d: %v", i, err)
		}
		want.WriteString(line)
	}
	eventually(t, "cat to echo everything", func() bool { return logText(t, p.Log(), Stdout) == want.String() })
	if p.Info().Status != StatusRunning {
		t.Fatal("cat ended before its stdin was closed")
	}
	if err := p.CloseStdin(); err != nil {
		t.Fatalf("CloseStdin: %v", err)
	}
	info := waitEnded(t, p)
	if info.Status != StatusCompleted {
		t.Fatalf("status %s after EOF on stdin", info.Status)
	}
	if err := p.CloseStdin(); err != nil {
		t.Fatalf("second CloseStdin: %v", err)
	}
	if err := p.WriteStdin(ctx, []byte("x")); !errors.Is(err, ErrStdinClosed) {
		t.Fatalf("WriteStdin after close = %v, want ErrStdinClosed", err)
	}
}

func TestStdinCloseWhileRunning(t *testing.T) {
	m := newTestManager(t, nil)
	// The process outlives its stdin: writes after the close are refused.
	p := mustStart(t, m, Spec{Command: "cat; echo eof; exec sleep 100", Stdin: true})
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	if err := p.CloseStdin(); err != nil {
		t.Fatalf("second CloseStdin: %v", err)
	}
	eventually(t, "the process to see EOF", func() bool { return logText(t, p.Log(), Stdout) == "eof\n" })
	if err := p.WriteStdin(testCtx(t), []byte("x")); !errors.Is(err, ErrStdinClosed) {
		t.Fatalf("WriteStdin after close = %v, want ErrStdinClosed", err)
	}
}

func TestStdinConcurrentWritesLandWhole(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "cat", Stdin: true})
	const writers = 8
	const size = 200 << 10 // several pipe buffers each
	bodies := make([][]byte, writers)
	var wg sync.WaitGroup
	for i := range bodies {
		bodies[i] = bytes.Repeat([]byte{byte('a' + i)}, size)
		wg.Add(1)
		go func(b []byte) {
			defer wg.Done()
			if err := p.WriteStdin(testCtx(t), b); err != nil {
				t.Errorf("WriteStdin: %v", err)
			}
		}(bodies[i])
	}
	wg.Wait()
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, p)
	out := logText(t, p.Log(), Stdout)
	if len(out) != writers*size {
		t.Fatalf("cat echoed %d bytes, want %d", len(out), writers*size)
	}
	seen := map[byte]bool{}
	for i := 0; i < len(out); i += size {
		body := out[i : i+size]
		if strings.Count(body, body[:1]) != size || seen[body[0]] {
			t.Fatalf("bodies interleaved at byte %d", i)
		}
		seen[body[0]] = true
	}
}

func TestStdinErrors(t *testing.T) {
	m := newTestManager(t, nil)
	ctx := testCtx(t)
	noStdin := mustStart(t, m, Spec{Command: "exec sleep 100"})
	if err := noStdin.WriteStdin(ctx, []byte("x")); !errors.Is(err, ErrNoStdin) {
		t.Errorf("WriteStdin without stdin = %v, want ErrNoStdin", err)
	}
	if err := noStdin.CloseStdin(); !errors.Is(err, ErrNoStdin) {
		t.Errorf("CloseStdin without stdin = %v, want ErrNoStdin", err)
	}
	ended := mustStart(t, m, Spec{Command: "true", Stdin: true})
	waitEnded(t, ended)
	if err := ended.WriteStdin(ctx, []byte("x")); !errors.Is(err, ErrStdinClosed) {
		t.Errorf("WriteStdin after the end = %v, want ErrStdinClosed", err)
	}
	if err := ended.CloseStdin(); err != nil {
		t.Errorf("CloseStdin after the end = %v", err)
	}
}

// TestStdinDefaultIsNotAPipe: without Stdin a process reading its stdin gets
// EOF at once, never a pipe nobody writes to.
func TestStdinDefaultIsNotAPipe(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "cat; echo done"})
	if info := waitEnded(t, p); info.Status != StatusCompleted || logText(t, p.Log(), Stdout) != "done\n" {
		t.Fatalf("status %s, output %q", info.Status, logText(t, p.Log(), Stdout))
	}
}

// TestStdinBlocked: a process that never reads gets ErrStdinBlocked once the
// pipe is full, after StdinWriteTimeout, and a second writer queued behind
// the stuck one is bounded by the same deadline.
func TestStdinBlocked(t *testing.T) {
	t.Parallel()
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100", Stdin: true})
	ctx := testCtx(t)
	type result struct {
		err     error
		elapsed time.Duration
	}
	results := make(chan result, 2)
	start := time.Now()
	write := func(data []byte) {
		err := p.WriteStdin(ctx, data)
		results <- result{err, time.Since(start)}
	}
	go write(make([]byte, 1<<20))
	// The second request comes while the first holds the turn.
	p.mu.Lock()
	s := p.stdin
	p.mu.Unlock()
	eventually(t, "the first writer to take its turn", func() bool { return len(s.turn) == 0 })
	go write([]byte("small"))
	for i := 0; i < 2; i++ {
		// A hang guard, not a timing check: the bound is 5 s, and only an
		// unbounded write would never return.
		r := testsupport.Receive(t, results, "WriteStdin to return")
		if !errors.Is(r.err, ErrStdinBlocked) {
			t.Errorf("WriteStdin = %v after %s, want ErrStdinBlocked", r.err, r.elapsed)
		}
	}
	if p.Info().Status != StatusRunning {
		t.Fatal("a blocked write ended the process")
	}
}

// TestStdinCloseUnblocksWriter: closing stdin ends a write stuck on a full
// pipe at once, with ErrStdinClosed.
func TestStdinCloseUnblocksWriter(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100", Stdin: true})
	res := make(chan error, 1)
	go func() { res <- p.WriteStdin(context.Background(), make([]byte, 1<<20)) }()
	// Wait until the writer holds the turn (the pipe is then full).
	p.mu.Lock()
	s := p.stdin
	p.mu.Unlock()
	eventually(t, "the writer to take its turn", func() bool { return len(s.turn) == 0 })
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	// Ended by the close, the write says so; had only its own deadline
	// ended it, it would say ErrStdinBlocked.
	if err := testsupport.Receive(t, res, "the blocked write to end"); !errors.Is(err, ErrStdinClosed) {
		t.Fatalf("blocked WriteStdin after close = %v, want ErrStdinClosed", err)
	}
}

func TestStdinNotReopenedOnRestart(t *testing.T) {
	m := newTestManager(t, nil)
	// Each attempt reads one line; after CloseStdin, later attempts must
	// see EOF at once, not a fresh pipe.
	p := mustStart(t, m, Spec{
		Command:          `if read line; then echo "got $line"; exit 1; else echo eof; exit 1; fi`,
		Stdin:            true,
		RestartOnFailure: true,
		MaxRestarts:      2,
	})
	if err := p.WriteStdin(testCtx(t), []byte("one\n")); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the first attempt to read", func() bool { return strings.HasPrefix(logText(t, p.Log(), Stdout), "got one\n") })
	if err := p.CloseStdin(); err != nil {
		t.Fatal(err)
	}
	waitEnded(t, p)
	want := "got one\nAttempting restart 1/2\neof\nAttempting restart 2/2\neof\n"
	if got := logText(t, p.Log(), Stdout); got != want {
		t.Fatalf("stdout = %q, want %q", got, want)
	}
}
