package process

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math/rand"
	"os"
	"strings"
	"sync/atomic"
	"testing"
)

func TestTailIndexAdd(t *testing.T) {
	type write struct{ start, end, segBase, data int64 }
	tests := []struct {
		name       string
		writes     []write
		want       []tailRun
		from       int64
		wantPruned bool
	}{
		{
			name:   "adjacent writes of one segment make one run",
			writes: []write{{0, 10, 0, 1}, {10, 30, 0, 11}},
			want:   []tailRun{{0, 30, 0, 12}},
		},
		{
			name:   "a gap starts a run",
			writes: []write{{0, 10, 0, 1}, {20, 30, 0, 1}},
			want:   []tailRun{{0, 10, 0, 1}, {20, 30, 0, 1}},
		},
		{
			name:   "a new segment starts a run, adjacent or not",
			writes: []write{{0, 10, 0, 1}, {10, 20, 10, 1}},
			want:   []tailRun{{0, 10, 0, 1}, {10, 20, 10, 1}},
		},
		{
			name:       "runs older than the last tailIndexBytes of output are let go",
			writes:     []write{{0, 10, 0, 1}, {20, 30, 0, tailIndexBytes - 1}, {40, 50, 0, 1}},
			want:       []tailRun{{20, 30, 0, tailIndexBytes - 1}, {40, 50, 0, 1}},
			wantPruned: true,
		},
		{
			name:   "a run is kept while the newer ones hold less than tailIndexBytes",
			writes: []write{{0, 10, 0, 1}, {20, 30, 0, tailIndexBytes - 2}, {40, 50, 0, 1}},
			want:   []tailRun{{0, 10, 0, 1}, {20, 30, 0, tailIndexBytes - 2}, {40, 50, 0, 1}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var x tailIndex
			for _, w := range tc.writes {
				x.add(w.start, w.end, w.segBase, w.data)
			}
			if !equalRuns(x.runs, tc.want) || x.from != tc.from || x.pruned != tc.wantPruned {
				t.Fatalf("runs %v, from %d, pruned %v; want %v, %d, %v", x.runs, x.from, x.pruned, tc.want, tc.from, tc.wantPruned)
			}
		})
	}
}

func equalRuns(a, b []tailRun) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestTailIndexCap: past tailIndexRuns runs, the two closest of one
// segment merge; with no two of one segment, the oldest goes and from
// moves past it.
func TestTailIndexCap(t *testing.T) {
	var x tailIndex
	for i := int64(0); i <= tailIndexRuns; i++ {
		start := i*200 + 100 // 190 bytes after the run before
		if i == 7 {
			start = i*200 + 1 // 91 after run 6: the closest pair
		}
		x.add(start, start+10, 0, 1)
	}
	if len(x.runs) != tailIndexRuns || x.total != tailIndexRuns+1 || x.from != 0 {
		t.Fatalf("%d runs, %d bytes, from %d; want %d, %d, 0", len(x.runs), x.total, x.from, tailIndexRuns, tailIndexRuns+1)
	}
	if got := x.runs[6]; got.Start != 6*200+100 || got.End != 7*200+1+10 || got.Data != 2 {
		t.Fatalf("run 6 = %+v; want runs 6 and 7 merged", got)
	}

	var y tailIndex // each run in a segment of its own
	for i := int64(0); i <= tailIndexRuns; i++ {
		y.add(i*100, i*100+10, i*100, 1)
	}
	if len(y.runs) != tailIndexRuns || y.from != 100 || y.runs[0].Start != 100 || y.total != tailIndexRuns {
		t.Fatalf("%d runs from %d, first %+v, %d bytes; want %d from 100", len(y.runs), y.from, y.runs[0], y.total, tailIndexRuns)
	}
}

// TestTailOfOneStreamReadsOnlyItsRuns: the tail of a stream with little
// output beside much of the other reads its records only. The other
// stream's records between them are made unreadable (a broken trailer):
// walking the log back through them, as Tail did before the index, fails.
func TestTailOfOneStreamReadsOnlyItsRuns(t *testing.T) {
	l := newTestLog(t, 64<<20)
	mustAppend(t, l, Stderr, "first error\n")
	big := strings.Repeat("o", maxChunk)
	for i := 0; i < 128; i++ { // 4 MiB of stdout
		mustAppend(t, l, Stdout, big)
	}
	mustAppend(t, l, Stderr, "last error\n")
	mustAppend(t, l, Stdout, "done\n")

	seg := l.segs[0]
	f, err := os.OpenFile(seg.path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The trailer of a stdout record in the middle: its length no longer
	// matches, which a walk back reads as a corrupt log.
	at := seg.head + recordOverhead + 12 + 64*(recordOverhead+maxChunk) - recordTrailerSize
	if _, err := f.WriteAt(binary.LittleEndian.AppendUint32(nil, maxChunk+1), at); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if _, _, err := l.Tail(Both, 8<<20); err == nil {
		t.Fatal("setup: a walk over the broken record did not fail")
	}

	got, truncated, err := l.Tail(Stderr, 64<<10)
	if err != nil || string(got) != "first error\nlast error\n" || truncated {
		t.Fatalf("Tail(Stderr) = %q, %v, %v; want both errors, whole", got, truncated, err)
	}
	got, truncated, err = l.Tail(Stdout, 64<<10)
	if err != nil || !bytes.HasSuffix(got, []byte("oodone\n")) || len(got) != 64<<10 || !truncated {
		t.Fatalf("Tail(Stdout): %d bytes, %v, %v; want the last 64 KiB, truncated", len(got), truncated, err)
	}
}

// TestTailIndexMatchesModel: for writes of both streams in several mixes
// (sparse, dense, a burst of tiny writes that passes the cap on runs), the
// tail of each stream equals the end of its output, in the log as written,
// in the log a restart reopens from its files, and in the log an upgrade
// hands over.
func TestTailIndexMatchesModel(t *testing.T) {
	mixes := []struct {
		name string
		next func(rng *rand.Rand, i int) (Stream, int)
	}{
		{"stderr now and then", func(rng *rand.Rand, i int) (Stream, int) {
			if rng.Intn(40) == 0 {
				return Stderr, 1 + rng.Intn(200)
			}
			return Stdout, 1 + rng.Intn(maxChunk)
		}},
		{"tiny writes in turns", func(rng *rand.Rand, i int) (Stream, int) {
			return Stream(1 + i%2), 1 + rng.Intn(8)
		}},
		{"bursts", func(rng *rand.Rand, i int) (Stream, int) {
			if i%500 < 100 {
				return Stream(1 + rng.Intn(2)), 1 + rng.Intn(20)
			}
			return Stdout, 1 + rng.Intn(maxChunk)
		}},
	}
	for k, mix := range mixes {
		t.Run(mix.name, func(t *testing.T) {
			rng := rand.New(rand.NewSource(int64(k)))
			dir := t.TempDir()
			l := newTestLogIn(dir, 8<<20) // 2 MiB segments
			var model [3][]byte
			for i := 0; len(model[Stdout])+len(model[Stderr]) < 5<<20 && i < 200000; i++ {
				s, n := mix.next(rng, i)
				data := bytes.Repeat([]byte{byte('a' + i%26)}, n)
				mustAppend(t, l, s, string(data))
				model[s] = append(model[s], data...)
			}
			l.Finish()
			checkTails(t, "as written", l, model)

			fl := l.freeze()
			state, err := json.Marshal(fl)
			if err != nil {
				t.Fatal(err)
			}
			var back frozenLog
			if err := json.Unmarshal(state, &back); err != nil {
				t.Fatal(err)
			}
			var seq atomic.Uint64
			resumed, err := resumeLog(dir, back, func() uint64 { return seq.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			checkTails(t, "handed over", resumed, model)
			for i := range l.tails {
				// The newest frozenTailRuns runs go over; from moves past
				// those left out.
				a, b := l.tails[i], resumed.tails[i]
				wantRuns, wantFrom := a.runs, a.from
				if n := len(a.runs); n > frozenTailRuns {
					wantRuns, wantFrom = a.runs[n-frozenTailRuns:], a.runs[n-frozenTailRuns].Start
				}
				if !equalRuns(b.runs, wantRuns) || b.from != wantFrom || b.pruned != a.pruned {
					t.Errorf("stream %d: the index handed over: %+v; want runs %v from %d, of %+v", i+1, b, wantRuns, wantFrom, a)
				}
			}
			back.Tails = nil // an image from before the index
			old, err := resumeLog(dir, back, func() uint64 { return seq.Add(1) })
			if err != nil {
				t.Fatal(err)
			}
			checkTails(t, "handed over without the index", old, model)

			files, err := segmentFiles(dir)
			if err != nil {
				t.Fatal(err)
			}
			reopened, _, _, err := reopenLog(dir, "p1", 8<<20, func() uint64 { return seq.Add(1) }, files[1])
			if err != nil {
				t.Fatal(err)
			}
			checkTails(t, "reopened", reopened, model)
			for i, x := range reopened.tails {
				if x.from != 0 || len(x.runs) == 0 {
					t.Errorf("reopened, stream %d: index from %d with %d runs; want it whole", i+1, x.from, len(x.runs))
				}
			}
		})
	}
}

func checkTails(t *testing.T, how string, l *Log, model [3][]byte) {
	t.Helper()
	for _, s := range []Stream{Stdout, Stderr} {
		want := model[s]
		for _, n := range []int{1, 100, 4 << 10, 64 << 10} {
			got, truncated, err := l.Tail(s, n)
			if err != nil {
				t.Fatalf("%s: Tail(%v, %d): %v", how, s, n, err)
			}
			wantTail := want[max(0, len(want)-n):]
			if !bytes.Equal(got, wantTail) {
				t.Fatalf("%s: Tail(%v, %d): %d bytes differ from the last %d of the output", how, s, n, len(got), len(wantTail))
			}
			if len(want) > n && !truncated {
				t.Errorf("%s: Tail(%v, %d) of %d bytes not said truncated", how, s, n, len(want))
			}
		}
	}
}

// TestTailIndexAfterDrop: runs in a segment a cap removed are skipped; the
// tail holds what is retained and says older output is gone.
func TestTailIndexAfterDrop(t *testing.T) {
	l := newTestLog(t, 1<<20) // 256 KiB segments
	mustAppend(t, l, Stderr, "gone\n")
	big := strings.Repeat("o", maxChunk)
	for i := 0; i < 40; i++ { // 1.25 MiB of stdout: the first segment goes
		mustAppend(t, l, Stdout, big)
	}
	mustAppend(t, l, Stderr, "kept\n")
	if l.Dropped() == 0 {
		t.Fatal("setup: nothing dropped")
	}
	got, truncated, err := l.Tail(Stderr, 64<<10)
	if err != nil || string(got) != "kept\n" || !truncated {
		t.Fatalf("Tail(Stderr) after a drop = %q, %v, %v; want the retained line, truncated", got, truncated, err)
	}
}
