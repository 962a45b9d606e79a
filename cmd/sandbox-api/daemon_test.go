package main

// Black-box test harness: the tests in this package's api_*_test.go,
// pidns_test.go and bench_test.go files drive the real daemon binary over
// real HTTP. TestMain builds it once; startDaemon runs one instance per test.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/procs/atinit"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

var (
	// daemonBin is the sandbox-api binary under test, helperBin the test-only
	// program of testdata/helper.
	daemonBin string
	helperBin string
	// testRunDir holds them, and whatever else outlives a single test or
	// benchmark of this run; it is removed when the run ends.
	testRunDir string
)

func TestMain(m *testing.M) {
	os.Exit(runTests(m))
}

// shippedBuildFlags are the go build flags of the Makefile's `build`
// target (its version stamps aside), and of BUILD_BEFORE: the daemon the
// tests run, and the binaries the benchmarks time, are built as shipped.
var shippedBuildFlags = []string{"-trimpath", "-ldflags=-s -w"}

func runTests(m *testing.M) int {
	// Importing the daemon lowered this process to one processor as it
	// initialised (internal/procs/atinit): the tests and the benchmarks'
	// baselines run on the runtime's default, as any client does.
	if atinit.Lowered() {
		runtime.SetDefaultGOMAXPROCS()
	}
	dir, err := os.MkdirTemp("", "sandbox-api-blackbox-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "temp dir:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	testRunDir = dir

	daemonBin = filepath.Join(dir, "sandbox-api")
	helperBin = filepath.Join(dir, "helper")
	// With the shipped flags, so that the benchmarks time the binary users
	// run: built without them, the same code read an exec 8–13 µs sooner
	// (docs/measured.md).
	args := append(append([]string{"build"}, shippedBuildFlags...), "-o", daemonBin)
	env := []string{"CGO_ENABLED=0"}
	if os.Getenv("RACE_DAEMON") == "1" {
		args = append(args, "-race")
		env = []string{"CGO_ENABLED=1"}
	}
	if err := testsupport.GoBuild("", env, append(args, ".")...); err != nil {
		fmt.Fprintln(os.Stderr, "build the daemon:", err)
		return 1
	}
	if err := testsupport.GoBuild("", []string{"CGO_ENABLED=0"}, "build", "-o", helperBin, "./testdata/helper"); err != nil {
		fmt.Fprintln(os.Stderr, "build the test helper:", err)
		return 1
	}
	return m.Run()
}

// daemonOptions tunes one daemon instance.
type daemonOptions struct {
	args  []string // extra flags
	env   []string // extra environment (KEY=value, later entries win)
	pidns bool     // run as PID 1 of a new PID namespace, through unshare
	wrap  []string // a command that executes the daemon in its place (setpriv ...)
	// grace is the --shutdown-grace given in args, used to bound the stop;
	// 0 means the daemon's default.
	grace time.Duration
	// bin is the daemon binary to run; "" is daemonBin, the one built from
	// this tree (a benchmark may time another build beside it).
	bin string
}

// daemon is one running sandbox-api.
type daemon struct {
	t       testing.TB
	url     string
	port    int
	cmd     *exec.Cmd
	pid     int // host pid of the daemon itself (not of unshare)
	logDir  string
	workDir string
	grace   time.Duration
	client  *http.Client // for plain requests: bounded by a hang guard
	stream  *http.Client // for streams: no overall timeout

	stderr  *testsupport.LogBuffer // bounded: access logs of long tests add up
	exited  chan struct{}
	exitErr error
	stopped bool
}

// hangGuard bounds every plain request and every wait of these tests:
// a hang fails the test instead of the whole run (the tests' one policy,
// testsupport.HangGuard).
const hangGuard = testsupport.HangGuard

// startDaemon runs the daemon on a free port with a temporary log dir and
// working directory, waits for /health, and stops it (SIGTERM) when the test
// ends, failing the test unless it exits 0 in time.
func startDaemon(t testing.TB, opts daemonOptions) *daemon {
	t.Helper()
	d := &daemon{
		t:       t,
		logDir:  t.TempDir(),
		workDir: t.TempDir(),
		grace:   opts.grace,
		stderr:  &testsupport.LogBuffer{Bound: 4 << 20},
		exited:  make(chan struct{}),
	}
	if d.grace == 0 {
		d.grace = 10 * time.Second
	}
	bin := daemonBin
	if opts.bin != "" {
		bin = opts.bin
	}
	argv := append([]string{bin, "-p", "0", "--log-dir", d.logDir}, opts.args...)
	argv = append(append([]string{}, opts.wrap...), argv...)
	if opts.pidns {
		argv = append([]string{"unshare", "--pid", "--fork", "--mount-proc"}, argv...)
	}
	d.cmd = exec.Command(argv[0], argv[1:]...)
	d.cmd.Dir = d.workDir
	env := []string{}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, envToken+"=") || strings.HasPrefix(kv, envLogDir+"=") {
			continue
		}
		env = append(env, kv)
	}
	// A known shell: several tests rely on bash behaviour (traps, $BASH_VERSION).
	env = append(env, "SHELL=/bin/bash")
	// A temp dir of its own: the daemon's default upload and write-journal
	// folders go in it, so that what a test leaves there (an upload it
	// never completes) goes with the test instead of piling up in /tmp.
	env = append(env, "TMPDIR="+t.TempDir())
	d.cmd.Env = append(env, opts.env...)
	// Own process group, so a runaway daemon can be killed with its tree.
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}

	// Through an io.Pipe, so that Wait returns only once the log is copied.
	logR, logW := io.Pipe()
	d.cmd.Stderr = logW
	d.cmd.Stdout = d.stderr
	d.cmd.WaitDelay = hangGuard
	if err := d.cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	// Known before any wait can fail: a stop with pid 0 would signal the
	// test's own process group.
	d.pid = d.cmd.Process.Pid
	addrCh := make(chan string, 1)
	go d.scanLog(logR, addrCh)
	go func() {
		d.exitErr = d.cmd.Wait()
		_ = logW.Close()
		close(d.exited)
	}()
	t.Cleanup(d.cleanup)

	select {
	case addr := <-addrCh:
		_, port, err := net.SplitHostPort(addr)
		if err != nil {
			t.Fatalf("daemon logged listen address %q: %v", addr, err)
		}
		d.port, _ = strconv.Atoi(port)
	case <-d.exited:
		t.Fatalf("daemon exited at startup (%v); log:\n%s", d.exitErr, d.stderr.String())
	case <-time.After(hangGuard):
		t.Fatalf("daemon did not log its listen address; log:\n%s", d.stderr.String())
	}
	d.url = fmt.Sprintf("http://127.0.0.1:%d", d.port)
	d.client = &http.Client{Timeout: hangGuard}
	d.stream = &http.Client{}

	d.pid = d.cmd.Process.Pid
	if opts.pidns {
		d.pid = d.findInnerPID()
	}

	testsupport.Eventually(t, func() (bool, string) {
		resp, err := d.client.Get(d.url + "/health")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return true, ""
			}
		}
		return false, fmt.Sprintf("daemon /health never answered 200 (last error %v); log:\n%s", err, d.stderr.String())
	})
	return d
}

// scanLog copies the daemon's log and reports its listen address.
func (d *daemon) scanLog(r io.Reader, addrCh chan<- string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	sent := false
	for sc.Scan() {
		line := sc.Bytes()
		_, _ = d.stderr.Write(append(append([]byte(nil), line...), '\n'))
		if sent {
			continue
		}
		var entry struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal(line, &entry) == nil && entry.Msg == "sandbox-api listening" {
			addrCh <- entry.Addr
			sent = true
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// logLine waits for the daemon's log line with message msg and returns its
// fields.
func (d *daemon) logLine(msg string) map[string]any {
	d.t.Helper()
	var fields map[string]any
	testsupport.Until(d.t, "a log line "+strconv.Quote(msg), func() bool {
		for _, line := range strings.Split(d.stderr.String(), "\n") {
			var f map[string]any
			if json.Unmarshal([]byte(line), &f) == nil && f["msg"] == msg {
				fields = f
				return true
			}
		}
		return false
	})
	return fields
}

// findInnerPID finds the daemon under unshare --fork: unshare's only child.
func (d *daemon) findInnerPID() int {
	d.t.Helper()
	var kids []int
	testsupport.Eventually(d.t, func() (bool, string) {
		kids = testsupport.ChildrenOf(d.cmd.Process.Pid)
		return len(kids) == 1, fmt.Sprintf("no child under unshare (pid %d)", d.cmd.Process.Pid)
	})
	return kids[0]
}

// stopTimeout bounds a SIGTERM shutdown: the grace to managed processes, the
// daemon's HTTP drain (2 s), and the hang guard for a loaded machine.
func (d *daemon) stopTimeout() time.Duration { return d.grace + 2*time.Second + hangGuard }

// stop sends SIGTERM and waits for the exit. It returns the exit error (nil
// for status 0) and how long the exit took.
func (d *daemon) stop() (error, time.Duration) {
	d.t.Helper()
	return d.stopWith(syscall.SIGTERM)
}

// stopWith is stop with another signal.
func (d *daemon) stopWith(sig syscall.Signal) (error, time.Duration) {
	d.t.Helper()
	if d.pid <= 0 {
		// Never started: kill(0, sig) would signal the whole process
		// group, go test and make included.
		d.stopped = true
		return errors.New("the daemon never started"), 0
	}
	d.stopped = true
	start := time.Now()
	if err := syscall.Kill(d.pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
		d.t.Errorf("%s to the daemon: %v", sig, err)
	}
	select {
	case <-d.exited:
		return d.exitErr, time.Since(start)
	case <-time.After(d.stopTimeout()):
		_ = syscall.Kill(-d.cmd.Process.Pid, syscall.SIGKILL)
		<-d.exited
		return fmt.Errorf("did not exit within %s of SIGTERM (killed)", d.stopTimeout()), time.Since(start)
	}
}

func (d *daemon) cleanup() {
	if !d.stopped {
		if err, took := d.stop(); err != nil {
			d.t.Errorf("daemon shutdown after %s: %v", took.Round(time.Millisecond), err)
		}
	}
	if d.t.Failed() {
		log := d.stderr.String()
		if len(log) > 16<<10 {
			log = "[...]\n" + log[len(log)-16<<10:]
		}
		d.t.Logf("daemon log (tail):\n%s", log)
	}
}

// ---- HTTP helpers ----

// request builds a request; body may be nil, a string, []byte or a value
// encoded as JSON.
func (d *daemon) request(ctx context.Context, method, path string, body any, header ...string) *http.Request {
	d.t.Helper()
	r, err := testsupport.BodyReader(body)
	if err != nil {
		d.t.Fatal(err)
	}
	req, err := http.NewRequestWithContext(ctx, method, d.url+path, r)
	if err != nil {
		d.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	return req
}

// do sends a plain request and returns the response with its body read.
func (d *daemon) do(method, path string, body any, header ...string) (*http.Response, []byte) {
	d.t.Helper()
	resp, err := d.client.Do(d.request(context.Background(), method, path, body, header...))
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		d.t.Fatalf("%s %s: read body: %v", method, path, err)
	}
	return resp, data
}

// doJSON sends a request, checks the status and decodes the JSON answer
// into out (when not nil).
func (d *daemon) doJSON(method, path string, body any, wantStatus int, out any) *http.Response {
	d.t.Helper()
	resp, data := d.do(method, path, body)
	if resp.StatusCode != wantStatus {
		d.t.Fatalf("%s %s: status %d, want %d; body: %s", method, path, resp.StatusCode, wantStatus, testsupport.Truncate(data))
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		d.t.Fatalf("%s %s: Content-Type %q, want application/json", method, path, ct)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			d.t.Fatalf("%s %s: decode %s: %v", method, path, testsupport.Truncate(data), err)
		}
	}
	return resp
}

// wantError checks a JSON error answer and returns its message.
func (d *daemon) wantError(method, path string, body any, wantStatus int) string {
	d.t.Helper()
	var e struct {
		Error *string `json:"error"`
	}
	d.doJSON(method, path, body, wantStatus, &e)
	if e.Error == nil || *e.Error == "" {
		d.t.Fatalf("%s %s: error answer without an error message", method, path)
	}
	return *e.Error
}

// proc is ProcessResponse as the tests read it.
type proc = testsupport.Proc

// exec is POST /process expecting 200.
func (d *daemon) exec(spec map[string]any) proc {
	d.t.Helper()
	var p proc
	d.doJSON(http.MethodPost, "/process", spec, http.StatusOK, &p)
	return p
}

// get is GET /process/{id} expecting 200.
func (d *daemon) get(id string) proc {
	d.t.Helper()
	var p proc
	d.doJSON(http.MethodGet, "/process/"+id, nil, http.StatusOK, &p)
	return p
}

func (d *daemon) logs(id string) testsupport.ProcessLogs {
	d.t.Helper()
	var l testsupport.ProcessLogs
	d.doJSON(http.MethodGet, "/process/"+id+"/logs", nil, http.StatusOK, &l)
	return l
}

// waitEnded polls until the process is no longer running.
func (d *daemon) waitEnded(id string) proc {
	d.t.Helper()
	var p proc
	testsupport.Eventually(d.t, func() (bool, string) {
		p = d.get(id)
		return p.Status != "running", "process " + id + " still running"
	})
	return p
}

// waitOutput polls /logs until the process's output contains want.
func (d *daemon) waitOutput(id, want string) {
	d.t.Helper()
	testsupport.Eventually(d.t, func() (bool, string) {
		l := d.logs(id)
		return strings.Contains(testsupport.Deref(l.Logs), want), fmt.Sprintf("output of %s never contained %q (have %q)", id, want, testsupport.Deref(l.Logs))
	})
}

// openStream starts a streaming GET or POST and checks its status.
func (d *daemon) openStream(ctx context.Context, method, path string, body any, header ...string) *http.Response {
	d.t.Helper()
	resp, err := d.stream.Do(d.request(ctx, method, path, body, header...))
	if err != nil {
		d.t.Fatalf("%s %s: %v", method, path, err)
	}
	d.t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// lineReader delivers the lines of a body on a channel, so tests can wait
// for each with a guard.
type lineReader struct {
	lines chan string
	err   error // set before lines is closed
}

func readLines(r io.Reader) *lineReader {
	lr := &lineReader{lines: make(chan string, 1024)}
	go func() {
		br := bufio.NewReaderSize(r, 64<<10)
		for {
			line, err := br.ReadString('\n')
			if line != "" {
				lr.lines <- strings.TrimSuffix(line, "\n")
			}
			if err != nil {
				if !errors.Is(err, io.EOF) {
					lr.err = err
				}
				close(lr.lines)
				return
			}
		}
	}()
	return lr
}

// next returns the next line, or ok=false at the end of the body.
func (lr *lineReader) next(t testing.TB) (string, bool) {
	t.Helper()
	return lr.nextBefore(t, time.Now().Add(hangGuard))
}

// nextBefore is next under a hang guard that ends at deadline, for a wait
// made of several lines (keepalives must not extend the guard).
func (lr *lineReader) nextBefore(t testing.TB, deadline time.Time) (string, bool) {
	t.Helper()
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	select {
	case l, ok := <-lr.lines:
		return l, ok
	case <-timer.C:
		t.Fatalf("no line within the hang guard (%s)", hangGuard)
		return "", false
	}
}

// nextData returns the next line that is not a keepalive, counting those.
func (lr *lineReader) nextData(t testing.TB, keepalives *int) (string, bool) {
	t.Helper()
	for {
		l, ok := lr.next(t)
		if ok && l == "[keepalive]" {
			*keepalives++
			continue
		}
		return l, ok
	}
}

// ---- /proc helpers ----

// procStat reads the state, parent pid and process group of pid.
func procStat(pid int) (state byte, ppid, pgid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, 0, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return 0, 0, 0, false
	}
	f := strings.Fields(string(b[i+2:]))
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgid, _ = strconv.Atoi(f[2])
	return f[0][0], ppid, pgid, true
}

// pidLive reports whether pid runs: it exists and is not a zombie.
func pidLive(pid int) bool {
	state, _, _, ok := procStat(pid)
	return ok && state != 'Z' && state != 'X'
}

// liveInGroups lists the live processes whose process group is in pgids.
func liveInGroups(pgids map[int]bool) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		state, _, pgid, ok := procStat(pid)
		if ok && pgids[pgid] && state != 'Z' && state != 'X' {
			out = append(out, pid)
		}
	}
	return out
}

// rssBytes is VmRSS of pid.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// rssSampler records the peak VmRSS of pid until stopped.
type rssSampler struct {
	stopCh chan struct{}
	done   chan struct{}
	peak   int64
}

func sampleRSS(pid int, every time.Duration) *rssSampler {
	s := &rssSampler{stopCh: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			if rss, err := rssBytes(pid); err == nil && rss > s.peak {
				s.peak = rss
			}
			select {
			case <-s.stopCh:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// stop ends sampling and returns the peak.
func (s *rssSampler) stop() int64 {
	close(s.stopCh)
	<-s.done
	return s.peak
}

// dirSize is the total size of the regular files in dir.
func dirSize(dir string) int64 {
	entries, _ := os.ReadDir(dir)
	var total int64
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() {
			total += info.Size()
		}
	}
	return total
}

// jsonUnmarshal is json.Unmarshal, for files that need nothing else of
// encoding/json.
func jsonUnmarshal(data []byte, v any) error { return json.Unmarshal(data, v) }
