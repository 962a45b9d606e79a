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
	if l.recent.bufs[0] != nil || l.recent.bufs[1] != nil {
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

// TestRecentWritesStayBounded: whatever the writes, the log holds at most
// two buffers of maxBlock, and writes of small output hold small buffers.
func TestRecentWritesStayBounded(t *testing.T) {
	l := newTestLog(t, 1<<30)
	mustAppend(t, l, Stdout, "small\n")
	if c := cap(l.recent.bufs[0]) + cap(l.recent.bufs[1]); c > 4<<10 {
		t.Fatalf("a 6-byte write holds %d bytes of buffers", c)
	}
	big := bytes.Repeat([]byte("x"), 3*pumpBufferSize)
	for range 5 {
		if _, err := l.Append(Stdout, big); err != nil {
			t.Fatal(err)
		}
	}
	for i, b := range l.recent.bufs {
		if cap(b) > maxBlock {
			t.Fatalf("buffer %d holds %d bytes, over maxBlock %d", i, cap(b), maxBlock)
		}
	}
}
