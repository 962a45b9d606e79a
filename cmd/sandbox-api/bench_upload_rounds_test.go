package main

// What the upload benchmarks share: the physical floor of an upload (its
// bytes, already in memory, written to a new file and fsynced), and rounds
// that time the daemon and that floor one after the other, so that a busy
// machine slows both alike and their ratio holds.

import (
	"os"
	"slices"
	"testing"
	"time"
)

// uploadFloor writes data to a new file dst in 1 MiB write() calls and
// fsyncs it: what landing the bytes of an upload durably costs at least,
// the bytes being in memory as they are when they come off a socket.
func uploadFloor(dst string, data []byte) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	for off := 0; off < len(data); off += 1 << 20 {
		if _, err := f.Write(data[off:min(off+1<<20, len(data))]); err != nil {
			return err
		}
	}
	return f.Sync()
}

// uploadRounds keeps, round by round, the time of an upload through the
// daemon and of uploadFloor for the same bytes, and the daemon's largest
// RSS growth during an upload.
type uploadRounds struct {
	size   int64
	daemon []time.Duration
	floor  []time.Duration
	growth int64
}

// round times floor() then upload(), the daemon's RSS sampled during the
// upload. Only upload() runs with the benchmark's timer on.
func (r *uploadRounds) round(b *testing.B, pid int, floor, upload func()) {
	b.Helper()
	b.StopTimer()
	start := time.Now()
	floor()
	r.floor = append(r.floor, time.Since(start))
	base, err := rssBytes(pid)
	if err != nil {
		b.Fatal(err)
	}
	sampler := sampleRSS(pid, 10*time.Millisecond)
	b.StartTimer()
	start = time.Now()
	upload()
	r.daemon = append(r.daemon, time.Since(start))
	b.StopTimer()
	r.growth = max(r.growth, sampler.stop()-base)
	b.StartTimer()
}

// report gives the medians of the rounds: each side's MiB/s and the
// ratio of the floor's time to the daemon's in the same round (1 is the
// physical limit).
func (r *uploadRounds) report(b *testing.B, daemonUnit, floorUnit string) {
	b.Helper()
	ratios := make([]float64, len(r.daemon))
	for i := range r.daemon {
		ratios[i] = r.floor[i].Seconds() / r.daemon[i].Seconds()
	}
	mibps := func(d time.Duration) float64 { return float64(r.size) / (1 << 20) / d.Seconds() }
	b.ReportMetric(mibps(medianDuration(r.daemon)), daemonUnit)
	b.ReportMetric(mibps(medianDuration(r.floor)), floorUnit)
	b.ReportMetric(medianFloat(ratios), "ratio-to-floor")
	b.ReportMetric(float64(r.growth)/(1<<20), "rss-growth-MiB")
}

func medianDuration(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func medianFloat(fs []float64) float64 {
	s := slices.Clone(fs)
	slices.Sort(s)
	return s[len(s)/2]
}
