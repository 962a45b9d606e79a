package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestStreamString(t *testing.T) {
	for s, want := range map[Stream]string{Stdout: "stdout", Stderr: "stderr", Both: "stream(3)"} {
		if got := s.String(); got != want {
			t.Errorf("Stream(%d).String() = %q, want %q", s, got, want)
		}
	}
}

func TestLogRoundTrip(t *testing.T) {
	tests := []struct {
		name   string
		writes []chunk
		// wantBoth is Copy(Both) when it differs from the concatenation:
		// both streams interleave by whole lines.
		wantBoth string
	}{
		{"stdout only", []chunk{{Stream: Stdout, Data: "hello\n"}}, ""},
		{"stderr only", []chunk{{Stream: Stderr, Data: "oops\n"}}, ""},
		{"interleaved", []chunk{
			{Stream: Stdout, Data: "o1"}, {Stream: Stderr, Data: "e1"}, {Stream: Stdout, Data: "o2\n"},
			{Stream: Stderr, Data: "e2\n"}, {Stream: Stderr, Data: "e3"}, {Stream: Stdout, Data: "o3"},
		}, "o1o2\ne1e2\no3\ne3"},
		{"a partial line waits for its newline", []chunk{
			{Stream: Stdout, Data: "x\n"}, {Stream: Stdout, Data: "last"}, {Stream: Stderr, Data: "e\n"},
		}, "x\ne\nlast"},
		{"binary", []chunk{{Stream: Stdout, Data: "\x00\x01\n\xff\xfe"}, {Stream: Stderr, Data: "\x00"}}, "\x00\x01\n\xff\xfe\n\x00"},
		{"empty appends keep nothing", []chunk{{Stream: Stdout, Data: ""}, {Stream: Stderr, Data: "x"}, {Stream: Stdout, Data: ""}}, ""},
		{"no output", nil, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLog(t, 1<<20)
			var want []chunk
			var all, out, errs strings.Builder
			for _, w := range tc.writes {
				mustAppend(t, l, w.Stream, w.Data)
				if w.Data == "" {
					continue
				}
				want = append(want, w)
				all.WriteString(w.Data)
				if w.Stream == Stdout {
					out.WriteString(w.Data)
				} else {
					errs.WriteString(w.Data)
				}
			}
			r := l.NewReader()
			defer r.Close()
			got := readChunks(t, r)
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("chunks = %v, want %v", got, want)
			}
			wantBoth := all.String()
			if tc.wantBoth != "" {
				wantBoth = tc.wantBoth
			}
			for _, f := range []struct {
				streams Stream
				want    string
			}{{Both, wantBoth}, {Stdout, out.String()}, {Stderr, errs.String()}, {0, ""}} {
				if got := logText(t, l, f.streams); got != f.want {
					t.Errorf("Copy(%v) = %q, want %q", f.streams, got, f.want)
				}
			}
			if l.Dropped() != 0 || l.Err() != nil {
				t.Errorf("Dropped = %d, Err = %v, want 0, nil", l.Dropped(), l.Err())
			}
		})
	}
}

func TestLogAppendSplitsLargeChunks(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, size := range []int{1, maxChunk - 1, maxChunk, maxChunk + 1, 3*maxChunk + 7} {
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			l := newTestLog(t, 64<<20)
			data := make([]byte, size)
			rng.Read(data)
			rolled, err := l.Append(Stderr, data)
			if err != nil || !rolled {
				t.Fatalf("first Append = %v, %v; want a new segment, no error", rolled, err)
			}
			r := l.NewReader()
			defer r.Close()
			chunks := readChunks(t, r)
			if want := (size + maxChunk - 1) / maxChunk; len(chunks) != want {
				t.Fatalf("%d records, want %d", len(chunks), want)
			}
			var got []byte
			for i, c := range chunks {
				if c.Stream != Stderr || len(c.Data) > maxChunk {
					t.Fatalf("record %d: stream %v, %d bytes", i, c.Stream, len(c.Data))
				}
				got = append(got, c.Data...)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("data read back differs from data written")
			}
			if rolled, _ := l.Append(Stderr, []byte("x")); rolled {
				t.Error("a small append into a fresh segment reported a roll")
			}
		})
	}
}

// record makes a 1000-byte payload whose first six bytes are its number.
func record(i int) string {
	return fmt.Sprintf("%06d", i) + strings.Repeat("x", 993) + "\n"
}

func recordID(t *testing.T, data string) int {
	t.Helper()
	if len(data) != 1000 {
		t.Fatalf("record of %d bytes, want 1000", len(data))
	}
	id, err := strconv.Atoi(data[:6])
	if err != nil {
		t.Fatalf("bad record %q", data[:6])
	}
	return id
}

func TestLogCapDropsOldestSegments(t *testing.T) {
	const maxBytes = 256 << 10
	const n = 1000
	const recSize = 1000 // drop counts are output bytes, framing excluded
	l := newTestLog(t, maxBytes)
	for i := 0; i < n; i++ {
		mustAppend(t, l, Stdout, record(i))
		if r := l.retained(); r > maxBytes {
			t.Fatalf("after record %d, %d bytes retained, cap %d", i, r, maxBytes)
		}
	}
	dropped := l.Dropped()
	if dropped == 0 || dropped%recSize != 0 {
		t.Fatalf("Dropped = %d, want a positive multiple of %d", dropped, recSize)
	}
	first := int(dropped / recSize) // the oldest record still kept

	// The files on disk are exactly what the log says it retains.
	var onDisk int64
	files := logFiles(t, l.dir, l.prefix)
	for _, f := range files {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		onDisk += st.Size()
	}
	if onDisk != l.retained() || len(files) != len(l.segs) {
		t.Errorf("%d files of %d bytes on disk; log retains %d segments, %d bytes", len(files), onDisk, len(l.segs), l.retained())
	}

	// A reader gets a marker for the lost part, then every kept record.
	r := l.NewReader()
	defer r.Close()
	chunks := readChunks(t, r)
	if len(chunks) == 0 || chunks[0].Dropped != dropped {
		t.Fatalf("first chunks %v, want dropped(%d)", chunks[:min(1, len(chunks))], dropped)
	}
	for i, c := range chunks[1:] {
		if id := recordID(t, c.Data); id != first+i {
			t.Fatalf("record %d after the marker is #%d, want #%d", i, id, first+i)
		}
	}
	if got := len(chunks) - 1; got != n-first {
		t.Fatalf("%d records after the marker, want %d", got, n-first)
	}

	// Copy says the same, as text.
	text := logText(t, l, Both)
	wantHead := DropMarker(dropped) + record(first)
	if !strings.HasPrefix(text, wantHead) || !strings.HasSuffix(text, record(n-1)) {
		t.Errorf("Copy starts %q..., ends ...%q", text[:min(len(text), 120)], text[max(0, len(text)-20):])
	}
	if got, want := len(text), len(DropMarker(dropped))+(n-first)*1000; got != want {
		t.Errorf("Copy gave %d bytes, want %d", got, want)
	}
}

func TestLogDroppable(t *testing.T) {
	l := newTestLog(t, 1<<20)
	if _, ok := l.oldestDroppable(); ok {
		t.Fatal("an empty log has a droppable segment")
	}
	if freed := l.dropOldest(); freed != 0 {
		t.Fatalf("dropOldest on an empty log freed %d", freed)
	}
	mustAppend(t, l, Stdout, "abc")
	if _, ok := l.oldestDroppable(); ok {
		t.Fatal("the only segment, being written, is droppable")
	}
	if freed := l.dropOldest(); freed != 0 || l.Dropped() != 0 {
		t.Fatalf("dropOldest removed the segment being written (freed %d)", freed)
	}
	l.Finish()
	if _, ok := l.oldestDroppable(); !ok {
		t.Fatal("a finished log's last segment is not droppable")
	}
	size := int64(segmentStartSize + 3 + recordOverhead)
	if freed := l.dropOldest(); freed != size {
		t.Fatalf("dropOldest freed %d, want %d", freed, size)
	}
	if l.Dropped() != 3 || l.retained() != 0 {
		t.Fatalf("Dropped %d, retained %d; want 3, 0", l.Dropped(), l.retained())
	}
	if files := logFiles(t, l.dir, l.prefix); len(files) != 0 {
		t.Fatalf("files left: %v", files)
	}
	if got := logText(t, l, Both); got != DropMarker(3) {
		t.Fatalf("Copy = %q, want only the drop marker", got)
	}
}

func TestLogRemoveDeletesFiles(t *testing.T) {
	l := newTestLog(t, 256<<10)
	other := filepath.Join(l.dir, "other.txt")
	if err := os.WriteFile(other, []byte("keep"), 0o600); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200; i++ {
		mustAppend(t, l, Stdout, record(i))
	}
	if n := len(logFiles(t, l.dir, l.prefix)); n < 3 || l.Dropped() != 0 {
		t.Fatalf("setup: %d segment files, %d dropped; want several files, nothing dropped", n, l.Dropped())
	}
	end := int64(200 * 1000) // output bytes, framing excluded
	r := l.NewReader()
	defer r.Close()

	l.Remove()
	if files := logFiles(t, l.dir, l.prefix); len(files) != 0 {
		t.Fatalf("files left after Remove: %v", files)
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatalf("Remove deleted a file that is not the log's: %v", err)
	}
	// A reader learns the output is gone, then ends even when following.
	c, err := r.Next(testCtx(t), true, 0)
	if err != nil || c.Dropped != end {
		t.Fatalf("Next after Remove = %+v, %v; want dropped(%d)", c, err, end)
	}
	if _, err := r.Next(testCtx(t), true, 0); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after the marker = %v, want io.EOF", err)
	}
	// Output that still arrives (an orphan holding the pipe) must not
	// recreate files nobody will delete.
	if _, err := l.Append(Stdout, []byte("late\n")); err != nil {
		t.Fatalf("Append after Remove: %v", err)
	}
	if files := logFiles(t, l.dir, l.prefix); len(files) != 0 {
		t.Fatalf("Append after Remove created %v", files)
	}
	if l.retained() != 0 {
		t.Fatalf("retained %d after Remove", l.retained())
	}
}

func TestLogFinishKeepsLateOutput(t *testing.T) {
	l := newTestLog(t, 1<<20)
	mustAppend(t, l, Stdout, "before\n")
	l.Finish()
	mustAppend(t, l, Stderr, "after\n")
	if got := logText(t, l, Both); got != "before\nafter\n" {
		t.Fatalf("Copy = %q", got)
	}
	r := l.NewReader()
	defer r.Close()
	var got []chunk
	for {
		c, err := r.Next(testCtx(t), true, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, chunk{c.Stream, string(c.Data), c.Dropped})
	}
	if want := "[stdout:\"before\\n\" stderr:\"after\\n\"]"; fmt.Sprint(got) != want {
		t.Fatalf("following a finished log gave %v, want %s", got, want)
	}
}

func TestDropMarker(t *testing.T) {
	for _, n := range []int64{1, 9, 123456789} {
		m := DropMarker(n)
		if !strings.Contains(m, " "+strconv.FormatInt(n, 10)+" bytes") || !strings.HasSuffix(m, "]\n") || strings.Count(m, "\n") != 1 {
			t.Errorf("DropMarker(%d) = %q: want one line naming the count", n, m)
		}
	}
}

func TestLogRandomRecordsAcrossSegments(t *testing.T) {
	// Random sizes put records across segment ends and the reader's buffer
	// end; everything must come back intact, in order.
	rng := rand.New(rand.NewSource(2))
	l := newTestLog(t, 1<<20) // 256 KiB segments
	var want []chunk
	total := 0
	for total < 900<<10 {
		data := make([]byte, 1+rng.Intn(maxChunk))
		rng.Read(data)
		s := Stream(1 + rng.Intn(2))
		mustAppend(t, l, s, string(data))
		want = append(want, chunk{Stream: s, Data: string(data)})
		total += len(data) + recordOverhead
	}
	if l.Dropped() != 0 || len(l.segs) < 3 {
		t.Fatalf("setup: %d segments, %d dropped", len(l.segs), l.Dropped())
	}
	r := l.NewReader()
	defer r.Close()
	got := readChunks(t, r)
	if len(got) != len(want) {
		t.Fatalf("%d records read, %d written", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("record %d differs", i)
		}
	}
}

// A copy of a log that holds nothing (the answer of an exec that printed
// nothing, once per stream) makes no reader: it allocates nothing.
func TestCopyOfNothingAllocatesNothing(t *testing.T) {
	for _, tc := range []struct {
		name     string
		finished bool
	}{{"running", false}, {"finished", true}} {
		t.Run(tc.name, func(t *testing.T) {
			l := newTestLog(t, 1<<20)
			if tc.finished {
				l.Finish()
			}
			var b bytes.Buffer
			allocs := testing.AllocsPerRun(50, func() {
				for _, s := range []Stream{Both, Stdout, Stderr} {
					if err := l.Copy(context.Background(), &b, s); err != nil {
						t.Fatalf("Copy(%v): %v", s, err)
					}
				}
			})
			if allocs != 0 || b.Len() != 0 {
				t.Errorf("copies of an empty log: %.1f allocations, %q written; want none, nothing", allocs, b.String())
			}
		})
	}
}
