package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkTail64KiB: the 64 KiB tail of each stream that GET
// /process/{id} inlines, and the 4 KiB one GET /process inlines (list), of
// a log of 64 MiB of stdout with a line of stderr at its start, against
// reading as many bytes of a file (pread-ns, the floor of any tail;
// tail/pread is the ratio). The stderr tail walked the whole log back
// before the log kept an index of its streams.
func BenchmarkTail64KiB(b *testing.B) {
	dir := b.TempDir()
	l := newTestLogIn(dir, 256<<20)
	if _, err := l.Append(Stderr, []byte("warning: something\n")); err != nil {
		b.Fatal(err)
	}
	big := []byte(strings.Repeat("x", 99) + "\n")
	chunk := []byte(strings.Repeat(string(big), 5000)) // about 500 KB, a pump's read
	for i := 0; i < 128; i++ {
		if _, err := l.Append(Stdout, chunk); err != nil {
			b.Fatal(err)
		}
	}
	l.Finish()
	f, err := os.Open(filepath.Join(dir, "p1-0.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name    string
		streams Stream
		max     int
	}{{"stdout", Stdout, 64 << 10}, {"stderr", Stderr, 64 << 10}, {"both", Both, 64 << 10}, {"list-both-4KiB", Both, 4 << 10}} {
		buf := make([]byte, tc.max)
		b.Run(tc.name, func(b *testing.B) {
			var floor time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				t0 := time.Now()
				if _, err := f.ReadAt(buf, 1<<20); err != nil {
					b.Fatal(err)
				}
				floor += time.Since(t0)
				b.StartTimer()
				if _, _, err := l.Tail(tc.streams, tc.max); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "pread-ns")
			b.ReportMetric(float64(b.Elapsed())/float64(floor), "tail/pread")
		})
	}
}

// BenchmarkTailSmallLog: the three 64 KiB tails GET /process/{id} inlines
// (both streams, stdout, stderr) of a process that printed two lines, the
// common case, against reading the log's file whole (pread-ns).
func BenchmarkTailSmallLog(b *testing.B) {
	dir := b.TempDir()
	l := newTestLogIn(dir, 256<<20)
	for _, w := range []struct {
		s    Stream
		data string
	}{{Stdout, "building...\n"}, {Stderr, "warning: unused variable\n"}} {
		if _, err := l.Append(w.s, []byte(w.data)); err != nil {
			b.Fatal(err)
		}
	}
	l.Finish()
	path := filepath.Join(dir, "p1-0.log")
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	buf := make([]byte, st.Size())
	var floor time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		t0 := time.Now()
		f, err := os.Open(path)
		if err == nil {
			_, err = f.ReadAt(buf, 0)
			f.Close()
		}
		if err != nil {
			b.Fatal(err)
		}
		floor += time.Since(t0)
		b.StartTimer()
		for _, s := range []Stream{Both, Stdout, Stderr} {
			if _, _, err := l.Tail(s, 64<<10); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(floor.Nanoseconds())/float64(b.N), "pread-ns")
	b.ReportMetric(float64(b.Elapsed())/float64(floor), "tails/pread")
}
