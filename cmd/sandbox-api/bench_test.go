package main

// Benchmarks of the daemon through real HTTP, each beside its physical
// baseline measured in the same run.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// asTimed runs f between the two stops of the world that b.StartTimer and
// b.StopTimer make (each reads the memory statistics): a build timed beside
// this tree's, untimed itself, then runs under the same conditions. A/A
// runs, the same binary on both sides, read the untimed side slower.
func asTimed(f func()) {
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	f()
	runtime.ReadMemStats(&ms)
}

// percentile of sorted durations, in microseconds.
func percentileUS(sorted []time.Duration, p float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p)
	return float64(sorted[i]) / float64(time.Microsecond)
}

// BenchmarkExecTrue: POST /process {"command":"true","waitForCompletion":true}
// over a keep-alive connection of a bare client (bareClient), against a
// plain fork/exec+wait of the same shell from the benchmark, and against
// the floor of an exec over HTTP in Go: testdata/minexec, a bare net/http
// server that runs the command with its output captured (its handler polls
// the pipes and the pidfd on its own thread) and answers JSON
// (bare-overhead-p50-µs, and over-bare-p50-µs for this daemon's p50 less
// its own), asked in the same rounds on a connection of its own. The
// gohttp- figures are the same execs through Go's http.Client, for what a
// heavier client adds. The idle- figures are execs from idle, each step
// after a pause (execsFromIdle). ns/op covers the daemon's bare execs
// only. With BENCH_BEFORE_BIN, that build runs beside this tree's too
// (before-overhead-p50-µs, idle-before-overhead-p50-µs).
func BenchmarkExecTrue(b *testing.B) {
	d := startDaemon(b, daemonOptions{})
	const shell = "/bin/bash" // what startDaemon gives the daemon as $SHELL
	tree := newExecSide(b, strings.TrimPrefix(d.url, "http://"))
	floorSrv := startAndPoll(b, startupSubject{"minexec", func(port int, _ string) []string {
		return []string{minexecBinary(b), fmt.Sprintf("127.0.0.1:%d", port)}
	}}, b.TempDir())
	b.Cleanup(func() { floorSrv.stop(b) })
	floor := newExecSide(b, floorSrv.addr)
	sides := []*execSide{tree, floor}
	var before *execSide
	if bin := beforeBin(); bin != "" {
		bd := startDaemon(b, daemonOptions{bin: bin})
		before = newExecSide(b, strings.TrimPrefix(bd.url, "http://"))
		sides = append(sides, before)
	}
	raw := func() time.Duration {
		start := time.Now()
		if err := exec.Command(shell, "-c", "true").Run(); err != nil {
			b.Fatal(err)
		}
		return time.Since(start)
	}
	for i := 0; i < 20; i++ { // warm every path (connections, page cache)
		raw()
		for _, s := range sides {
			s.exec()
			s.health()
			s.goExec()
		}
	}

	// Three phases, each of rounds that hold only what its figures compare:
	// the execs beside the raw fork/exec, the bare round trips, and the
	// execs through Go's http.Client beside the raw fork/exec again. (A
	// /health and a Go client's exec between two execs of a side, in the
	// same rounds, read its execs 30–60 µs slower.) The steps run in
	// pairOrder, over and over: a daemon's tidying after its answer slows
	// whichever step comes next, and each step must follow each as often
	// (in a fixed cycle, an A/A run, the same build on both sides, read the
	// side after the other daemon 40 µs slower).
	rawLat := make([]time.Duration, 0, b.N)
	execSteps := []func(){func() { rawLat = append(rawLat, raw()) }}
	for _, s := range sides {
		if s == tree {
			execSteps = append(execSteps, func() {
				b.StartTimer()
				s.execs = append(s.execs, s.exec())
				b.StopTimer()
			})
			continue
		}
		execSteps = append(execSteps, func() { asTimed(func() { s.execs = append(s.execs, s.exec()) }) })
	}
	b.ResetTimer()
	b.StopTimer()
	for _, k := range pairOrderSteps(len(execSteps), b.N) {
		execSteps[k]()
	}
	others := max(b.N/2, 1)
	for _, k := range pairOrderSteps(len(sides), others) {
		s := sides[k]
		s.healths = append(s.healths, s.health())
	}
	goRawLat := make([]time.Duration, 0, others)
	goSteps := []func(){func() { goRawLat = append(goRawLat, raw()) }}
	for _, s := range sides {
		goSteps = append(goSteps, func() { s.goExecs = append(s.goExecs, s.goExec()) })
	}
	for _, k := range pairOrderSteps(len(goSteps), others) {
		goSteps[k]()
	}
	idleRawLat, idleExecs := execsFromIdle(sides, raw, b.N/8)
	for _, s := range sides {
		slices.Sort(s.execs)
		slices.Sort(s.healths)
		slices.Sort(s.goExecs)
	}
	slices.Sort(rawLat)
	slices.Sort(goRawLat)
	rawP50, rawP99 := percentileUS(rawLat, 0.50), percentileUS(rawLat, 0.99)
	over := func(lat []time.Duration) float64 { return percentileUS(lat, 0.50) - rawP50 }
	goOver := func(lat []time.Duration) float64 { return percentileUS(lat, 0.50) - percentileUS(goRawLat, 0.50) }
	if before != nil {
		b.ReportMetric(over(before.execs), "before-overhead-p50-µs")
	}
	b.ReportMetric(over(floor.execs), "bare-overhead-p50-µs")
	b.ReportMetric(percentileUS(tree.execs, 0.50)-percentileUS(floor.execs, 0.50), "over-bare-p50-µs")
	b.ReportMetric(percentileUS(floor.healths, 0.50), "bare-roundtrip-p50-µs")
	b.ReportMetric(percentileUS(tree.healths, 0.50), "http-roundtrip-p50-µs")
	b.ReportMetric(goOver(tree.goExecs), "gohttp-overhead-p50-µs")
	b.ReportMetric(goOver(floor.goExecs), "gohttp-bare-overhead-p50-µs")
	p50, p99 := percentileUS(tree.execs, 0.50), percentileUS(tree.execs, 0.99)
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	b.ReportMetric(rawP50, "raw-p50-µs")
	b.ReportMetric(rawP99, "raw-p99-µs")
	b.ReportMetric(p50-rawP50, "overhead-p50-µs") // issue 15's target: at most +250 µs
	if len(idleRawLat) >= minIdleRounds {
		idleRawP50 := percentileUS(idleRawLat, 0.50)
		b.ReportMetric(idleRawP50, "idle-raw-p50-µs")
		b.ReportMetric(percentileUS(idleExecs[tree], 0.50)-idleRawP50, "idle-overhead-p50-µs")
		b.ReportMetric(percentileUS(idleExecs[floor], 0.50)-idleRawP50, "idle-bare-overhead-p50-µs")
		if before != nil {
			b.ReportMetric(percentileUS(idleExecs[before], 0.50)-idleRawP50, "idle-before-overhead-p50-µs")
		}
	}

	// CPU per exec: the daemon's own threads (the child's time is the
	// child's), beside what the same fork/exec/wait costs this process.
	const cpuRounds = 1000
	cpuBefore := threadsCPU(b, d.pid)
	for range cpuRounds {
		tree.exec()
	}
	daemonCPU := threadsCPU(b, d.pid) - cpuBefore
	floorBefore := threadsCPU(b, floorSrv.cmd.Process.Pid)
	for range cpuRounds {
		floor.exec()
	}
	floorCPU := threadsCPU(b, floorSrv.cmd.Process.Pid) - floorBefore
	selfBefore := selfCPU()
	for range cpuRounds {
		raw()
	}
	rawCPU := selfCPU() - selfBefore
	perExec := func(d time.Duration) float64 { return float64(d) / cpuRounds / float64(time.Microsecond) }
	b.ReportMetric(perExec(daemonCPU), "daemon-cpu-µs/exec")
	b.ReportMetric(perExec(rawCPU), "raw-parent-cpu-µs/exec")
	b.ReportMetric(perExec(floorCPU), "bare-cpu-µs/exec")
}

// minexecBin is testdata/minexec, built once per test process.
var minexecBin struct {
	once sync.Once
	path string
	err  error
}

// minexecBinary builds testdata/minexec with the daemon's shipped flags,
// into a folder that goes with the test run's.
func minexecBinary(b *testing.B) string {
	b.Helper()
	minexecBin.once.Do(func() {
		dir, err := os.MkdirTemp(testRunDir, "minexec-")
		if err != nil {
			minexecBin.err = err
			return
		}
		minexecBin.path = filepath.Join(dir, "minexec")
		minexecBin.err = buildShipped(minexecBin.path, "./testdata/minexec")
	})
	if minexecBin.err != nil {
		b.Fatal(minexecBin.err)
	}
	return minexecBin.path
}

// threadsCPU is the CPU time the threads of pid have had so far.
func threadsCPU(b *testing.B, pid int) time.Duration {
	b.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	var total time.Duration
	for _, t := range tasks {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/schedstat")
		if err != nil {
			continue // the thread ended
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(data))[0], 10, 64)
		total += time.Duration(ns)
	}
	return total
}

// selfCPU is the CPU time this process has had so far, children aside.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// readLineStream reads a body line by line to EOF and returns the lines
// and bytes of payload, keepalives excepted; prefix is stripped from the
// count of bytes.
func readLineStream(r io.Reader, prefix string) (lines, payload int64, err error) {
	br := bufio.NewReaderSize(r, 256<<10)
	for {
		line, err := br.ReadSlice('\n')
		if len(line) > 0 && string(line) != "[keepalive]\n" {
			if !strings.HasPrefix(string(line[:min(len(line), len(prefix))]), prefix) {
				return lines, payload, fmt.Errorf("line %d %q lacks the prefix %q", lines+1, testsupport.Truncate(line), prefix)
			}
			lines++
			payload += int64(len(line) - len(prefix))
		}
		if errors.Is(err, io.EOF) {
			return lines, payload, nil
		}
		if err != nil {
			return lines, payload, err
		}
	}
}

// BenchmarkLogStream: 200 MiB of 100-byte lines written by a process and
// read through GET /logs/stream, against the same generator piped straight
// into the same reader (daemon/raw, the yardstick), and through a
// pipe as large as the daemon gives a fast writer (daemon/raw-1MiB-pipe:
// the default pipe wakes the reader every 64 KiB, which makes that
// baseline slower and noisier), and the generator through that pipe into a
// new file that is kept (daemon/raw-kept: the floor of output that must
// not be lost, keepInNewFiles). ns/op and MB/s cover the daemon path only.
// With BENCH_BEFORE_BIN, that build streams the same log in each round too
// (before-MiB/s, before/raw, before/raw-kept).
func BenchmarkLogStream(b *testing.B) {
	const (
		total   = 200 << 20
		lineLen = 100
		lines   = total / lineLen // the generator writes whole lines only
	)
	// Caps above the volume: the stream must carry every line.
	caps := []string{"--log-max-process-bytes", strconv.Itoa(1 << 30), "--log-max-total-bytes", strconv.Itoa(4 << 30)}
	d := startDaemon(b, daemonOptions{args: caps})
	var before *daemon
	if bin := beforeBin(); bin != "" {
		before = startDaemon(b, daemonOptions{bin: bin, args: caps})
	}
	genArgs := []string{"gen", strconv.Itoa(total), strconv.Itoa(lineLen)}
	command := "exec " + testsupport.ShellQuote(helperBin) + " " + strings.Join(genArgs, " ")
	wantPayload := int64(lines * lineLen)

	// streamLogs starts the generator in d and streams its log to the end.
	streamLogs := func(d *daemon) time.Duration {
		start := time.Now()
		resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": command})
		var p proc
		if resp.StatusCode != http.StatusOK || jsonUnmarshal(body, &p) != nil {
			b.Fatalf("POST /process: %d %s", resp.StatusCode, body)
		}
		sresp, err := d.stream.Get(d.url + "/process/" + p.PID + "/logs/stream")
		if err != nil {
			b.Fatal(err)
		}
		n, payload, err := readLineStream(sresp.Body, "stdout:")
		sresp.Body.Close()
		took := time.Since(start)
		if err != nil || n != lines || payload != wantPayload {
			b.Fatalf("daemon stream: %d lines, %d bytes, %v", n, payload, err)
		}
		return took
	}
	// sampled streams through d with its RSS sampled, returning the time
	// and the RSS's growth; both daemons are treated alike.
	sampled := func(d *daemon, timed bool) (time.Duration, int64) {
		time.Sleep(100 * time.Millisecond)
		base, err := rssBytes(d.pid)
		if err != nil {
			b.Fatal(err)
		}
		sampler := sampleRSS(d.pid, 10*time.Millisecond)
		if timed {
			b.StartTimer()
		}
		took := streamLogs(d)
		if timed {
			b.StopTimer()
		}
		return took, sampler.stop() - base
	}
	keep := keepInNewFiles(b.TempDir(), wantPayload)
	var rawTime, bigPipeTime, keptTime, daemonTime, beforeTime time.Duration
	var maxGrowth int64
	// The kept-output floor and the daemons write new pages: they take
	// turns going first, so that none always finds what the last freed.
	steps := []func(){
		func() { keptTime += timeRawPipeline(b, genArgs, daemonPipeSize, keep) },
		func() {
			took, growth := sampled(d, true)
			daemonTime += took
			maxGrowth = max(maxGrowth, growth)
		},
	}
	if before != nil {
		steps = append(steps, func() {
			took, _ := sampled(before, false)
			beforeTime += took
		})
	}
	// An untimed round first (runInTurns). maxGrowth keeps its streams':
	// memory is bounded from the first stream on.
	runInTurns(steps, 0)
	keptTime, daemonTime, beforeTime = 0, 0, 0
	b.SetBytes(wantPayload)
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		// Baseline: generator → pipe → the same line reader, with the
		// kernel's default pipe, and with the daemon's larger one.
		readAll := func(r io.Reader) error {
			n, payload, err := readLineStream(r, "")
			if err == nil && (n != lines || payload != wantPayload) {
				err = fmt.Errorf("%d lines, %d bytes", n, payload)
			}
			return err
		}
		rawTime += timeRawPipeline(b, genArgs, 0, readAll)
		bigPipeTime += timeRawPipeline(b, genArgs, daemonPipeSize, readAll)
		runInTurns(steps, i)
	}
	mbps := func(d time.Duration) float64 { return float64(wantPayload) * float64(b.N) / (1 << 20) / d.Seconds() }
	b.ReportMetric(mbps(daemonTime), "daemon-MiB/s")
	b.ReportMetric(mbps(rawTime), "raw-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(rawTime), "daemon/raw")
	b.ReportMetric(mbps(bigPipeTime), "raw-1MiB-pipe-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(bigPipeTime), "daemon/raw-1MiB-pipe")
	b.ReportMetric(mbps(keptTime), "raw-kept-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(keptTime), "daemon/raw-kept")
	b.ReportMetric(float64(maxGrowth)/(1<<20), "rss-growth-MiB")
	if before != nil {
		b.ReportMetric(mbps(beforeTime), "before-MiB/s")
		b.ReportMetric(mbps(beforeTime)/mbps(rawTime), "before/raw")
		b.ReportMetric(mbps(beforeTime)/mbps(keptTime), "before/raw-kept")
	}
}
