package process

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"testing"
	"time"
)

// spoilSegments overwrites every byte of output in the log's files with
// '#', framing untouched: a reader that returns the real bytes afterwards
// took them from memory, one that returns '#' read the file.
func spoilSegments(t *testing.T, l *Log) {
	t.Helper()
	l.mu.Lock()
	paths := make([]string, 0, len(l.segs))
	for _, s := range l.segs {
		paths = append(paths, s.path)
	}
	l.mu.Unlock()
	for _, path := range paths {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+recordOverhead <= len(data); {
			n := int(binary.LittleEndian.Uint32(data[off+1:]))
			if s := Stream(data[off]); s == Stdout || s == Stderr {
				copy(data[off+recordHeaderSize:off+recordHeaderSize+n], bytes.Repeat([]byte("#"), n))
			}
			off += recordOverhead + n
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

// readReady returns what r has now, joined, and the error that stopped it
// (ErrIdle when it caught up, io.EOF at the end).
func readReady(t *testing.T, r *Reader) (string, error) {
	t.Helper()
	var got []byte
	for {
		c, err := r.Next(testCtx(t), true, -1)
		if err != nil {
			return string(got), err
		}
		if c.Dropped > 0 || c.Lost > 0 {
			t.Fatalf("a marker (%+v) where no output was dropped or lost", c)
		}
		got = append(got, c.Data...)
	}
}

// TestReaderKeepingUpReadsFromMemory: a reader that keeps up gets the last
// writes from memory (the file's copy is spoiled and it still gets the real
// bytes), while the same bytes are on disk; one that falls further behind
// reads the file; and after Finish nothing is held.
func TestReaderKeepingUpReadsFromMemory(t *testing.T) {
	l := newTestLog(t, 64<<20)
	r := l.NewReader()
	defer r.Close()
	mustAppend(t, l, Stdout, "first\n")
	mustAppend(t, l, Stderr, "second\n")
	if data, err := os.ReadFile(l.segs[0].path); err != nil || !bytes.Contains(data, []byte("first\n")) || !bytes.Contains(data, []byte("second\n")) {
		t.Fatalf("the file holds %q, %v; want both writes on disk at once", data, err)
	}
	spoilSegments(t, l)
	if got, err := readReady(t, r); got != "first\nsecond\n" || !errors.Is(err, ErrIdle) {
		t.Fatalf("the reader that kept up got %q, %v; want the last two writes from memory", got, err)
	}

	// Three more writes: the first of them is no longer in memory, so the
	// reader reads the file, as far as it goes.
	for _, s := range []string{"3\n", "4\n", "5\n"} {
		mustAppend(t, l, Stdout, s)
	}
	spoilSegments(t, l)
	if got, err := readReady(t, r); got != "######" || !errors.Is(err, ErrIdle) {
		t.Fatalf("the reader three writes behind got %q, %v; want them from the file", got, err)
	}

	mustAppend(t, l, Stdout, "6\n")
	l.Finish()
	if l.recent.written[0] != nil || l.recent.written[1] != nil || l.recent.spare != nil {
		t.Fatal("the log still holds its last writes after Finish")
	}
	spoilSegments(t, l)
	if got, err := readReady(t, r); got != "##" || !errors.Is(err, io.EOF) {
		t.Fatalf("after Finish the reader got %q, %v; want the last write from the file, then EOF", got, err)
	}
	// Every write reached the file (spoiled by now, the framing intact).
	data, err := os.ReadFile(l.segs[0].path)
	if err != nil || bytes.Count(data, []byte("#")) != len("first\nsecond\n3\n4\n5\n6\n") {
		t.Fatalf("the file holds %q, %v", data, err)
	}
}

// TestReaderFallsBehindWithoutLossOrRepeat: readers reading at their own
// paces, mid-buffer, while writes of every size go on (from a byte to more
// than one block), switch between memory and the file and each gets the
// whole output once, in order, per stream.
func TestReaderFallsBehindWithoutLossOrRepeat(t *testing.T) {
	for _, segmentSize := range []int64{1 << 30, 3 << 20} {
		t.Run(fmt.Sprintf("segments of %d bytes", segmentSize), func(t *testing.T) {
			readersFallBehind(t, segmentSize)
		})
	}
}

func readersFallBehind(t *testing.T, segmentSize int64) {
	rng := rand.New(rand.NewSource(15))
	l := newTestLog(t, 1<<30)
	l.segmentSize = segmentSize // many segments under a cap no output reaches
	const readers = 5
	var rs [readers]*Reader
	var got [readers][Both + 1][]byte
	for i := range rs {
		rs[i] = l.NewReader()
		defer rs[i].Close()
	}
	var want [Both + 1][]byte
	sizes := []int{1, 100, maxChunk - 1, maxChunk + 1, pumpBufferSize, pumpBufferSize + 3*maxChunk}
	var counter byte
	for step := 0; step < 300; step++ {
		s := Stream(1 + rng.Intn(2))
		data := make([]byte, sizes[rng.Intn(len(sizes))])
		for i := range data {
			counter++
			data[i] = 'a' + counter%26
		}
		mustAppend(t, l, s, string(data))
		want[s] = append(want[s], data...)
		// Each reader takes from none to several chunks, reader i tending
		// to lag more than reader i-1.
		for i, r := range rs {
			for n := rng.Intn(2 + 6/(i+1)); n > 0; n-- {
				c, err := r.Next(testCtx(t), true, -1)
				if errors.Is(err, ErrIdle) {
					break
				}
				if err != nil || c.Dropped > 0 || c.Lost > 0 {
					t.Fatalf("reader %d: %+v, %v", i, c, err)
				}
				got[i][c.Stream] = append(got[i][c.Stream], c.Data...)
			}
		}
	}
	l.Finish() // the rest comes from the files
	if l.Dropped() > 0 {
		t.Fatalf("%d bytes dropped: the test needs a cap above its output", l.Dropped())
	}
	for i, r := range rs {
		for {
			c, err := r.Next(testCtx(t), true, 0)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("reader %d: %v", i, err)
			}
			got[i][c.Stream] = append(got[i][c.Stream], c.Data...)
		}
		for _, s := range []Stream{Stdout, Stderr} {
			if !bytes.Equal(got[i][s], want[s]) {
				t.Fatalf("reader %d got %d bytes of %v, want %d, the same", i, len(got[i][s]), s, len(want[s]))
			}
		}
	}
}

// recentBlocks is the blocks the log holds for its recent writes.
func recentBlocks(l *Log) []*logBlock {
	var out []*logBlock
	for _, b := range []*logBlock{l.recent.written[0], l.recent.written[1], l.recent.spare} {
		if b != nil {
			out = append(out, b)
		}
	}
	return out
}

// TestRecentWritesStayBounded: whatever the writes, the log holds at most
// two writes and a spare of at most maxBlock each; small output holds
// small blocks; a reader holding a block costs at most that block more.
func TestRecentWritesStayBounded(t *testing.T) {
	l := newTestLog(t, 1<<30)
	mustAppend(t, l, Stdout, "small\n")
	for _, b := range recentBlocks(l) {
		if cap(b.buf) > 4<<10 {
			t.Fatalf("a 6-byte write holds a block of %d bytes", cap(b.buf))
		}
	}
	r := l.NewReader()
	defer r.Close()
	big := bytes.Repeat([]byte("x"), 3*pumpBufferSize)
	for range 5 {
		if _, err := l.Append(Stdout, big); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(testCtx(t), true, -1); err != nil { // holds a block
			t.Fatal(err)
		}
		blocks := recentBlocks(l)
		if r.held != nil && r.held != l.recent.written[0] && r.held != l.recent.written[1] {
			blocks = append(blocks, r.held)
		}
		if len(blocks) > 4 {
			t.Fatalf("%d blocks held, want at most two writes, a spare and the reader's", len(blocks))
		}
		for _, b := range blocks {
			if cap(b.buf) > maxBlock {
				t.Fatalf("a block of %d bytes, over maxBlock %d", cap(b.buf), maxBlock)
			}
		}
	}
}

// TestReadersGoOnWhileAWriteIsOnItsWay: while a write is on its way to
// disk (held here), readers still get everything written before, and wait
// as usual; then they get the write.
func TestReadersGoOnWhileAWriteIsOnItsWay(t *testing.T) {
	l := newTestLog(t, 1<<20)
	mustAppend(t, l, Stdout, "before\n")
	entered, release := make(chan struct{}), make(chan struct{})
	l.beforeWrite = func() {
		close(entered)
		<-release
	}
	appended := make(chan error, 1)
	go func() {
		_, err := l.Append(Stderr, []byte("during\n"))
		appended <- err
	}()
	select {
	case <-entered:
	case <-time.After(hangGuard):
		t.Fatal("the write never started")
	}
	l.beforeWrite = nil // read by the held write only before it started

	got := make(chan string, 1)
	go func() {
		r := l.NewReader()
		defer r.Close()
		s, err := readReady(t, r)
		if !errors.Is(err, ErrIdle) {
			s += " / " + err.Error()
		}
		got <- s
	}()
	select {
	case s := <-got:
		if s != "before\n" {
			t.Fatalf("a reader during the write got %q, want what was written before", s)
		}
	case <-time.After(hangGuard):
		t.Fatal("a reader was held up by a write on its way to disk")
	}
	close(release)
	if err := <-appended; err != nil {
		t.Fatal(err)
	}
	r := l.NewReader()
	defer r.Close()
	if s, err := readReady(t, r); s != "before\nduring\n" || !errors.Is(err, ErrIdle) {
		t.Fatalf("after the write: %q, %v", s, err)
	}
}

// TestManyFollowersWhileTheProcessWrites: followers reading as output
// arrives, from both streams, through the end of the process (which comes
// while some are still behind), each get every byte once, in order.
func TestManyFollowersWhileTheProcessWrites(t *testing.T) {
	l := newTestLog(t, 1<<30)
	l.segmentSize = 2 << 20 // segments roll while they read
	const followers = 4
	var want [Both + 1][]byte
	var rng = rand.New(rand.NewSource(7))
	type write struct {
		s    Stream
		data []byte
	}
	var writes []write
	for i := 0; i < 200; i++ {
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 1+rng.Intn(2*pumpBufferSize))
		s := Stream(1 + i%2)
		writes = append(writes, write{s, data})
		want[s] = append(want[s], data...)
	}
	results := make(chan error, followers)
	for f := 0; f < followers; f++ {
		r := l.NewReader()
		go func() {
			defer r.Close()
			var got [Both + 1][]byte
			for {
				c, err := r.Next(testCtx(t), true, 0)
				if errors.Is(err, io.EOF) {
					break
				}
				if err != nil || c.Dropped > 0 || c.Lost > 0 {
					results <- fmt.Errorf("%+v, %v", c, err)
					return
				}
				got[c.Stream] = append(got[c.Stream], c.Data...)
			}
			for _, s := range []Stream{Stdout, Stderr} {
				if !bytes.Equal(got[s], want[s]) {
					results <- fmt.Errorf("%v: %d bytes, want %d", s, len(got[s]), len(want[s]))
					return
				}
			}
			results <- nil
		}()
	}
	// stdout and stderr written by their own goroutines, as the pumps do.
	var done [2]chan error
	for i, s := range []Stream{Stdout, Stderr} {
		done[i] = make(chan error, 1)
		go func() {
			for _, w := range writes {
				if w.s == s {
					if _, err := l.Append(s, w.data); err != nil {
						done[i] <- err
						return
					}
				}
			}
			done[i] <- nil
		}()
	}
	for i := range done {
		if err := <-done[i]; err != nil {
			t.Fatal(err)
		}
	}
	l.Finish()
	for f := 0; f < followers; f++ {
		select {
		case err := <-results:
			if err != nil {
				t.Fatalf("a follower: %v", err)
			}
		case <-time.After(hangGuard):
			t.Fatal("a follower never reached the end")
		}
	}
}
