package main

// Start-up and idle-memory benchmarks: the daemon as `make build` ships it,
// beside a minimal net/http server (testdata/minhttp) built with the same
// flags, started and polled the same way in the same run; and beside the
// same minimal server linked with every package the daemon imports
// (testdata/linkedhttp), which shows what the daemon's dependencies cost
// before it does anything of its own.

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// shippedBins holds the binaries of the start-up benchmarks, built once per
// test process.
var shippedBins struct {
	once                    sync.Once
	daemon, minimal, linked string
	err                     error
}

// shippedBinaries builds the daemon and the two minimal servers with
// shippedBuildFlags, into a folder that outlives single benchmarks (it goes
// with the test run's, testRunDir).
func shippedBinaries(b *testing.B) (daemon, minimal, linked string) {
	b.Helper()
	shippedBins.once.Do(func() {
		dir, err := os.MkdirTemp(testRunDir, "startup-bench-") // removed with the run's folder
		if err != nil {
			shippedBins.err = err
			return
		}
		shippedBins.daemon = filepath.Join(dir, "sandbox-api")
		shippedBins.minimal = filepath.Join(dir, "minhttp")
		shippedBins.linked = filepath.Join(dir, "linkedhttp")
		if err := buildShipped(shippedBins.daemon, "."); err != nil {
			shippedBins.err = err
			return
		}
		if err := buildShipped(shippedBins.minimal, "./testdata/minhttp"); err != nil {
			shippedBins.err = err
			return
		}
		shippedBins.err = buildShipped(shippedBins.linked, "./testdata/linkedhttp")
	})
	if shippedBins.err != nil {
		b.Fatal(shippedBins.err)
	}
	return shippedBins.daemon, shippedBins.minimal, shippedBins.linked
}

// buildShipped builds the package pkg (relative to this folder) into out,
// static and with shippedBuildFlags, as the daemon ships.
func buildShipped(out, pkg string) error {
	args := append(append([]string{"build"}, shippedBuildFlags...), "-o", out, pkg)
	return testsupport.GoBuild("", []string{"CGO_ENABLED=0"}, args...)
}

// startupSubject is one server the start-up benchmarks run.
type startupSubject struct {
	name string
	argv func(port int, logDir string) []string
}

func startupSubjects(b *testing.B) (daemon, minimal, linked startupSubject) {
	daemonBin, minimalBin, linkedBin := shippedBinaries(b)
	daemon = startupSubject{"daemon", func(port int, logDir string) []string {
		return []string{daemonBin, "-p", strconv.Itoa(port), "--log-dir", logDir}
	}}
	minimal = startupSubject{"minimal", func(port int, _ string) []string {
		return []string{minimalBin, ":" + strconv.Itoa(port)}
	}}
	linked = startupSubject{"linked", func(port int, _ string) []string {
		return []string{linkedBin, ":" + strconv.Itoa(port)}
	}}
	return daemon, minimal, linked
}

// startedServer is one server started by startAndPoll.
type startedServer struct {
	cmd    *exec.Cmd
	addr   string // host:port it serves on
	logDir string
	// output is its stdout and stderr: a file, so that no goroutine of the
	// benchmark copies the daemon's log lines while it starts.
	output *os.File
	// tookToHealth is the time from just before the fork to the end of
	// the first 200 answer of /health.
	tookToHealth time.Duration
}

// healthPollPause is the pause between two refused connections while a
// server starts: short beside a start-up (a few ms), long enough that the
// poller leaves the second core to the server most of the time. It is
// slept with nanosleep(2): time.Sleep of less than a millisecond sleeps
// about a millisecond here (the runtime's idle wait has a 1 ms grain),
// which would add up to 1 ms of noise to both servers and hide part of
// their difference.
const healthPollPause = 50 * time.Microsecond

// pollPause sleeps healthPollPause on this thread.
func pollPause() {
	ts := syscall.NsecToTimespec(int64(healthPollPause))
	_ = syscall.Nanosleep(&ts, nil) // EINTR: an early retry, harmless
}

// startAndPoll starts s on a free port with a fresh log dir and asks GET
// /health, each time on a new connection, until the first 200.
func startAndPoll(b *testing.B, s startupSubject, root string) *startedServer {
	b.Helper()
	port := freePort(b)
	logDir, err := os.MkdirTemp(root, "logs-")
	if err != nil {
		b.Fatal(err)
	}
	argv := s.argv(port, logDir)
	output, err := os.CreateTemp(root, "output-")
	if err != nil {
		b.Fatal(err)
	}
	srv := &startedServer{cmd: exec.Command(argv[0], argv[1:]...), addr: fmt.Sprintf("127.0.0.1:%d", port), logDir: logDir, output: output}
	srv.cmd.Env = benchEnv()
	srv.cmd.Stderr = output
	srv.cmd.Stdout = output
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: hangGuard}
	url := "http://" + srv.addr + "/health"

	start := time.Now()
	if err := srv.cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", s.name, err)
	}
	deadline := start.Add(hangGuard)
	for {
		resp, err := client.Get(url)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				srv.tookToHealth = time.Since(start)
				return srv
			}
			srv.stop(b)
			b.Fatalf("%s: /health answered %d", s.name, resp.StatusCode)
		}
		if !errors.Is(err, syscall.ECONNREFUSED) || time.Now().After(deadline) {
			srv.stop(b)
			out, _ := os.ReadFile(srv.output.Name())
			b.Fatalf("%s: /health: %v; output:\n%s", s.name, err, testsupport.Truncate(out))
		}
		pollPause()
	}
}

// stop ends the server with SIGTERM (the daemon's clean shutdown; the
// default action for the minimal server) and removes its log dir.
func (s *startedServer) stop(b *testing.B) {
	b.Helper()
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(hangGuard):
		_ = s.cmd.Process.Kill()
		<-done
		b.Errorf("%s did not exit within %s of SIGTERM", s.cmd.Path, hangGuard)
	}
	_ = os.RemoveAll(s.logDir)
	_ = s.output.Close()
	_ = os.Remove(s.output.Name())
}

// freePort is a TCP port free at the time of the call.
func freePort(b *testing.B) int {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// benchEnv is the benchmark's environment without the daemon's token
// variables (a token re-executes the daemon: a start-up of its own) and
// with the shell the other black-box tests give it.
func benchEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, envToken+"=") && !strings.HasPrefix(kv, envTokenFD+"=") && !strings.HasPrefix(kv, "GODEBUG=") {
			env = append(env, kv)
		}
	}
	return append(env, "SHELL=/bin/bash")
}

// medianMS of durations, in milliseconds.
func medianMS(d []time.Duration) float64 {
	s := slices.Clone(d)
	slices.Sort(s)
	return float64(s[len(s)/2]) / float64(time.Millisecond)
}

// BenchmarkStartup: from the fork to the first 200 on /health, the daemon
// beside the minimal net/http server and the linked one, started in turn.
// ns/op covers the daemon's start-ups only; a ratio is the median of the
// ratios of each round's start-ups.
//
// With BENCH_BEFORE_BIN, that daemon build starts in each round too: each
// build then starts after a minimal server of its own, in turns, and
// before/minimal is the other build's ratio under the same load.
func BenchmarkStartup(b *testing.B) {
	daemon, minimal, linked := startupSubjects(b)
	subjects := []startupSubject{daemon, minimal, linked}
	var before *startupSubject
	if bin := beforeBin(); bin != "" {
		before = &startupSubject{"before", func(port int, logDir string) []string {
			return []string{bin, "-p", strconv.Itoa(port), "--log-dir", logDir}
		}}
		subjects = append(subjects, *before)
	}
	root := b.TempDir()
	for range 3 { // page cache, binaries and the first fork warm for all
		for _, s := range subjects {
			startAndPoll(b, s, root).stop(b)
		}
	}
	took := func(s startupSubject) time.Duration {
		srv := startAndPoll(b, s, root)
		defer srv.stop(b)
		return srv.tookToHealth
	}
	var daemonTook, daemonMinimalTook, minimalTook, linkedTook, beforeTook, beforeMinimalTook []time.Duration
	timedDaemon := func() {
		b.StartTimer()
		d := startAndPoll(b, daemon, root)
		b.StopTimer()
		daemonTook = append(daemonTook, d.tookToHealth)
		d.stop(b)
	}
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		minimalTook = append(minimalTook, took(minimal))
		linkedTook = append(linkedTook, took(linked))
		if before == nil {
			timedDaemon() // its ratio is to this round's minimal start
			continue
		}
		// Each build after a minimal start of its own, in turns, and each
		// between the same two stops of the world (asTimed): A/A runs, the
		// same binary on both sides, read the build that came last 0.01–0.03
		// higher, and the one not timed 0.01–0.05 higher.
		for k := range 2 {
			m := took(minimal)
			if (i+k)%2 == 0 {
				daemonMinimalTook = append(daemonMinimalTook, m)
				timedDaemon()
			} else {
				beforeMinimalTook = append(beforeMinimalTook, m)
				asTimed(func() { beforeTook = append(beforeTook, took(*before)) })
			}
		}
	}
	b.StopTimer()
	if daemonMinimalTook == nil {
		daemonMinimalTook = minimalTook
	}
	b.ReportMetric(medianMS(daemonTook), "daemon-p50-ms")
	b.ReportMetric(medianMS(minimalTook), "minimal-p50-ms")
	b.ReportMetric(medianMS(linkedTook), "linked-p50-ms")
	b.ReportMetric(medianRatio(daemonTook, daemonMinimalTook), "daemon/minimal") // issue 15 target: ≤ 1.3
	b.ReportMetric(medianRatio(linkedTook, minimalTook), "linked/minimal")
	if before != nil {
		b.ReportMetric(medianMS(beforeTook), "before-p50-ms")
		b.ReportMetric(medianRatio(beforeTook, beforeMinimalTook), "before/minimal")
	}
}

// medianRatio is the median of a[i]/b[i]: each pair was measured back to
// back, under the same load, which a ratio of two medians taken over a
// whole run of a shared machine is not.
func medianRatio(a, b []time.Duration) float64 {
	r := make([]float64, len(a))
	for i := range a {
		r[i] = float64(a[i]) / float64(b[i])
	}
	slices.Sort(r)
	return r[len(r)/2]
}

// idleSettle is part of the idle-RSS figure's definition: VmRSS 1 s after
// /health first answers, with no request since.
const idleSettle = time.Second

// BenchmarkIdleRSS: VmRSS 1 s after the first 200 on /health, the daemon
// beside the minimal net/http server and the linked one; RssAnon is the
// private part (the rest is the binary's file-backed pages, shared by every
// process that runs the same file). Figures are averages over b.N start-ups
// of each, in MB of 1000 kB.
func BenchmarkIdleRSS(b *testing.B) {
	daemon, minimal, linked := startupSubjects(b)
	subjects := []startupSubject{daemon, minimal, linked}
	root := b.TempDir()
	for _, s := range subjects { // page cache
		startAndPoll(b, s, root).stop(b)
	}
	keys := []string{"VmRSS", "RssAnon", "RssFile"}
	sum := map[string]float64{}
	for range b.N {
		for _, s := range subjects {
			srv := startAndPoll(b, s, root)
			time.Sleep(idleSettle)
			for _, k := range keys {
				sum[s.name+"-"+k] += float64(procStatusKB(b, srv.cmd.Process.Pid, k))
			}
			srv.stop(b)
		}
	}
	mb := func(key string) float64 { return sum[key] / float64(b.N) / 1000 }
	b.ReportMetric(mb("daemon-VmRSS"), "daemon-MB") // issue 15 target: ≤ 10
	b.ReportMetric(mb("daemon-RssAnon"), "daemon-anon-MB")
	b.ReportMetric(mb("daemon-RssFile"), "daemon-file-MB")
	b.ReportMetric(mb("minimal-VmRSS"), "minimal-MB")
	b.ReportMetric(mb("minimal-RssAnon"), "minimal-anon-MB")
	b.ReportMetric(mb("linked-VmRSS"), "linked-MB")
	b.ReportMetric(mb("daemon-VmRSS")/mb("minimal-VmRSS"), "daemon/minimal")
}
