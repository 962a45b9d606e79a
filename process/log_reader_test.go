package process

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"
)

func TestReaderFollowsLiveLog(t *testing.T) {
	l := newTestLog(t, 64<<20)
	const bursts, perBurst = 20, 25
	writerErr := make(chan error, 1)
	go func() {
		defer close(writerErr)
		id := 0
		for b := 0; b < bursts; b++ {
			// Append only once the reader is blocked waiting for output,
			// so each burst goes through the wake-up path.
			deadline := time.Now().Add(hangGuard)
			for !l.isWaiting() {
				if time.Now().After(deadline) {
					writerErr <- errors.New("reader never waited")
					l.Finish()
					return
				}
				time.Sleep(time.Millisecond)
			}
			for i := 0; i < perBurst; i++ {
				if _, err := l.Append(Stream(1+id%2), []byte(record(id))); err != nil {
					writerErr <- err
					l.Finish()
					return
				}
				id++
			}
		}
		l.Finish()
	}()

	r := l.NewReader()
	defer r.Close()
	ctx := testCtx(t)
	next := 0
	for {
		c, err := r.Next(ctx, true, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		if c.Dropped > 0 {
			t.Fatalf("dropped %d without a cap being reached", c.Dropped)
		}
		if id := recordID(t, string(c.Data)); id != next {
			t.Fatalf("got record #%d, want #%d (lost or duplicated output)", id, next)
		}
		if c.Stream != Stream(1+next%2) {
			t.Fatalf("record #%d on %v", next, c.Stream)
		}
		next++
	}
	if err := <-writerErr; err != nil {
		t.Fatal(err)
	}
	if next != bursts*perBurst {
		t.Fatalf("read %d records, want %d", next, bursts*perBurst)
	}
}

func TestReaderIdle(t *testing.T) {
	l := newTestLog(t, 1<<20)
	r := l.NewReader()
	defer r.Close()
	ctx := testCtx(t)

	if _, err := r.Next(ctx, true, 20*time.Millisecond); !errors.Is(err, ErrIdle) {
		t.Fatalf("Next on a quiet log = %v, want ErrIdle", err)
	}
	if _, err := r.Next(ctx, true, -1); !errors.Is(err, ErrIdle) {
		t.Fatalf("Next with negative idle = %v, want ErrIdle at once", err)
	}
	if _, err := r.Next(ctx, false, 20*time.Millisecond); !errors.Is(err, io.EOF) {
		t.Fatalf("Next without follow = %v, want io.EOF", err)
	}
	// After an idle return the reader goes on where it was.
	mustAppend(t, l, Stdout, "a")
	c, err := r.Next(ctx, true, -1)
	if err != nil || string(c.Data) != "a" {
		t.Fatalf("Next after output = %q, %v", c.Data, err)
	}
	if _, err := r.Next(ctx, true, -1); !errors.Is(err, ErrIdle) {
		t.Fatalf("Next at the end again = %v, want ErrIdle", err)
	}
	// Output arriving while the reader waits is returned, not ErrIdle.
	go func() {
		for !l.isWaiting() {
			time.Sleep(time.Millisecond)
		}
		_, _ = l.Append(Stderr, []byte("b"))
	}()
	c, err = r.Next(ctx, true, hangGuard)
	if err != nil || string(c.Data) != "b" || c.Stream != Stderr {
		t.Fatalf("Next while output arrives = %v %q, %v", c.Stream, c.Data, err)
	}
}

func TestReaderContext(t *testing.T) {
	l := newTestLog(t, 1<<20)
	r := l.NewReader()
	defer r.Close()

	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		for !l.isWaiting() {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	done := make(chan error, 1)
	go func() {
		_, err := r.Next(ctx, true, 0)
		done <- err
	}()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Next = %v, want context.Canceled", err)
		}
	case <-time.After(hangGuard):
		t.Fatal("Next ignored the cancelled context")
	}

	dctx, dcancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer dcancel()
	if _, err := r.Next(dctx, true, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Next = %v, want context.DeadlineExceeded", err)
	}
	// The reader still works afterwards.
	mustAppend(t, l, Stdout, "x")
	if c, err := r.Next(testCtx(t), true, 0); err != nil || string(c.Data) != "x" {
		t.Fatalf("Next after cancellation = %q, %v", c.Data, err)
	}
}

func TestReaderFinishWakesFollower(t *testing.T) {
	l := newTestLog(t, 1<<20)
	mustAppend(t, l, Stdout, "only")
	r := l.NewReader()
	defer r.Close()
	ctx := testCtx(t)
	if c, err := r.Next(ctx, true, 0); err != nil || string(c.Data) != "only" {
		t.Fatalf("Next = %q, %v", c.Data, err)
	}
	go func() {
		for !l.isWaiting() {
			time.Sleep(time.Millisecond)
		}
		l.Finish()
	}()
	if _, err := r.Next(ctx, true, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after Finish = %v, want io.EOF", err)
	}
	// So does a reader created after the end, following.
	r2 := l.NewReader()
	defer r2.Close()
	if c, err := r2.Next(ctx, true, 0); err != nil || string(c.Data) != "only" {
		t.Fatalf("new reader: %q, %v", c.Data, err)
	}
	if _, err := r2.Next(ctx, true, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("new reader at the end = %v, want io.EOF", err)
	}
}

func TestReaderStartedBeforeDrop(t *testing.T) {
	const recSize = 1000 // drop counts are output bytes, framing excluded
	l := newTestLog(t, 256<<10)
	for i := 0; i < 10; i++ {
		mustAppend(t, l, Stdout, record(i))
	}
	r := l.NewReader()
	defer r.Close()
	ctx := testCtx(t)
	for i := 0; i < 3; i++ {
		c, err := r.Next(ctx, false, 0)
		if err != nil || recordID(t, string(c.Data)) != i {
			t.Fatalf("record %d: %v", i, err)
		}
	}
	// The cap removes what the reader has not read yet.
	for i := 10; i < 1000; i++ {
		mustAppend(t, l, Stdout, record(i))
	}
	if l.Dropped() == 0 {
		t.Fatal("setup: nothing was dropped")
	}
	chunks := readChunks(t, r)
	next, markers := 3, 0
	for _, c := range chunks {
		if c.Dropped > 0 {
			markers++
			if c.Dropped%recSize != 0 {
				t.Fatalf("marker of %d bytes is not whole records", c.Dropped)
			}
			next += int(c.Dropped / recSize)
			continue
		}
		if id := recordID(t, c.Data); id != next {
			t.Fatalf("got record #%d, want #%d: output lost without a marker, or duplicated", id, next)
		}
		next++
	}
	if markers != 1 || next != 1000 {
		t.Fatalf("%d markers, reached record %d; want 1 marker and every later record", markers, next)
	}
}

func TestReaderStalledReaderDoesNotBlockOthers(t *testing.T) {
	l := newTestLog(t, 64<<20)
	stalled := l.NewReader()
	defer stalled.Close()
	if _, err := stalled.Next(testCtx(t), true, -1); !errors.Is(err, ErrIdle) {
		t.Fatalf("stalled reader: %v", err)
	}
	// The writer goes on, with the stalled reader never reading again.
	for i := 0; i < 2000; i++ {
		mustAppend(t, l, Stdout, record(i))
	}
	l.Finish()
	r := l.NewReader()
	defer r.Close()
	if got := len(readChunks(t, r)); got != 2000 {
		t.Fatalf("other reader got %d records, want 2000", got)
	}
	// And the stalled one still gets everything, from where it was.
	if got := len(readChunks(t, stalled)); got != 2000 {
		t.Fatalf("stalled reader got %d records, want 2000", got)
	}
}
