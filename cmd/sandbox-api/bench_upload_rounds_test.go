package main

// What the upload benchmarks share: the physical floor of an upload (its
// bytes, already in memory, written to a new file and fsynced), and rounds
// that time the daemon and that floor one after the other, so that a busy
// machine slows both alike and their ratio holds. An earlier build of the
// daemon (BENCH_BEFORE_BIN) may be timed in the same rounds, so that a
// before and an after share one floor and one run.

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// envBeforeBin names a daemon binary (another build: main's, say) that the
// upload benchmarks time beside this tree's in the same rounds, reported
// as before-ratio-to-floor. Unset, only this tree's daemon is timed.
const envBeforeBin = "BENCH_BEFORE_BIN"

// beforeBin is $BENCH_BEFORE_BIN, or "" when it is unset.
func beforeBin() string { return os.Getenv(envBeforeBin) }

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

// uploadSide is one daemon a round times: its pid (for its RSS) and one
// upload of the benchmark's bytes through it, checked.
type uploadSide struct {
	pid    int
	upload func()
}

// sideTimes is what the rounds measured of one daemon: each upload's time
// beside the floor's, timed just before it.
type sideTimes struct {
	times  []time.Duration
	floors []time.Duration
	cpu    []time.Duration // the daemon's CPU time during each upload
	growth int64           // the largest RSS growth during an upload
}

// uploadRounds keeps, round by round, the time of an upload through each
// daemon timed and of uploadFloor for the same bytes just before it.
type uploadRounds struct {
	size   int64
	now    sideTimes // this tree's daemon
	before sideTimes // BENCH_BEFORE_BIN's, when given
}

// round times floor() then before's upload, when before is not nil, then
// floor() again and now's upload. Only now's upload runs with the
// benchmark's timer on. Each step starts after a sync(): what the step
// before left to write back (files removed since, another daemon's
// leftovers) is not the next one's cost. A floor next to each upload keeps
// a burst of the machine's other work from skewing one side only.
func (r *uploadRounds) round(b *testing.B, floor func(), now uploadSide, before *uploadSide) {
	b.Helper()
	b.StopTimer()
	// An untimed floor first: without it, the first floor of a round
	// (the before daemon's, when there is one) read two to three times
	// slower than the second in 7 of 8 runs on the VM of 2026-12-07,
	// whose root file system is mounted with discard (the first write +
	// fsync after the last round's files were removed seems to pay for
	// trimming them). Every floor timed now follows the same steps.
	floor()
	if before != nil {
		timeUpload(b, floor, *before, &r.before, false)
	}
	timeUpload(b, floor, now, &r.now, true)
}

// timeUpload times floor() then one upload through side into into, the
// daemon's RSS sampled meanwhile; the benchmark's timer runs during the
// upload when timed.
func timeUpload(b *testing.B, floor func(), side uploadSide, into *sideTimes, timed bool) {
	b.Helper()
	syscall.Sync()
	start := time.Now()
	floor()
	into.floors = append(into.floors, time.Since(start))
	base, err := rssBytes(side.pid)
	if err != nil {
		b.Fatal(err)
	}
	syscall.Sync()
	sampler := sampleRSS(side.pid, 10*time.Millisecond)
	cpu := threadsCPU(b, side.pid)
	if timed {
		b.StartTimer()
	}
	start = time.Now()
	side.upload()
	into.times = append(into.times, time.Since(start))
	b.StopTimer()
	into.cpu = append(into.cpu, threadsCPU(b, side.pid)-cpu)
	into.growth = max(into.growth, sampler.stop()-base)
}

// report gives the medians of the rounds: each side's MiB/s, the ratio
// of the floor's time to the daemon's in the same round (1 is the physical
// limit) and the daemon's CPU time per upload (all its threads); with a
// before daemon, its figures too, prefixed "before-".
func (r *uploadRounds) report(b *testing.B, daemonUnit, floorUnit string) {
	b.Helper()
	mibps := func(d time.Duration) float64 { return float64(r.size) / (1 << 20) / d.Seconds() }
	b.ReportMetric(mibps(medianDuration(r.now.floors)), floorUnit)
	sides := []struct {
		prefix string
		t      sideTimes
	}{{"", r.now}, {"before-", r.before}}
	for _, s := range sides {
		if len(s.t.times) == 0 {
			continue
		}
		ratios := make([]float64, len(s.t.times))
		for i, d := range s.t.times {
			ratios[i] = s.t.floors[i].Seconds() / d.Seconds()
		}
		b.ReportMetric(mibps(medianDuration(s.t.times)), s.prefix+daemonUnit)
		b.ReportMetric(medianFloat(ratios), s.prefix+"ratio-to-floor")
		b.ReportMetric(float64(s.t.growth)/(1<<20), s.prefix+"rss-growth-MiB")
		b.ReportMetric(float64(medianDuration(s.t.cpu))/float64(time.Millisecond), s.prefix+"daemon-cpu-ms")
	}
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

// runUploadRounds times b.N rounds of the upload that side makes (this
// tree's daemon, and BENCH_BEFORE_BIN's when set: side is called with the
// binary, "" for this tree's, and returns the upload and where it lands)
// beside the floor, a write + fsync of data, and reports them.
func runUploadRounds(b *testing.B, data []byte, side func(bin string) (uploadSide, string)) {
	total := int64(len(data))
	now, nowDest := side("")
	var before *uploadSide
	var beforeDest string
	if bin := beforeBin(); bin != "" {
		s, dest := side(bin)
		before, beforeDest = &s, dest
	}
	floorDest := filepath.Join(b.TempDir(), "floor.bin")
	floor := func() {
		if err := uploadFloor(floorDest, data); err != nil {
			b.Fatal(err)
		}
		_ = os.Remove(floorDest)
	}
	landed := func(dest string) {
		if fi, err := os.Stat(dest); err != nil || fi.Size() != total {
			b.Fatalf("uploaded file: %v %v", fi, err)
		}
		_ = os.Remove(dest)
	}

	rounds := uploadRounds{size: total}
	b.SetBytes(total)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		rounds.round(b, floor, now, before)
		b.StopTimer()
		landed(nowDest)
		if before != nil {
			landed(beforeDest)
		}
		b.StartTimer()
	}
	b.StopTimer()
	rounds.report(b, "upload-MiB/s", "floor-MiB/s")
}

// doOK sends req and fails b unless it is answered 200 (what names the
// request in the failure).
func doOK(b *testing.B, client *http.Client, req *http.Request, what string) {
	b.Helper()
	resp, err := client.Do(req)
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("%s: %d %s", what, resp.StatusCode, body)
	}
}
