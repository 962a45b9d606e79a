package main

// Black-box tests of upgrades in place (POST /upgrade, SIGUSR2): real
// builds of the daemon stamped with different versions, a local HTTP
// server holding them in the contract's release layout, and the running
// daemon's processes, streams and sessions checked across the switch.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// upgradeBuilds are the binaries of these tests, built once per run: the
// daemon stamped v1 and v2, a v3 that refuses every hand-over (so the
// switch rolls back), and v2 built for another architecture.
var upgradeBuilds struct {
	once sync.Once
	bins map[string]string
	err  error
}

func upgradeBinaries(t testing.TB) map[string]string {
	t.Helper()
	upgradeBuilds.once.Do(func() {
		dir := filepath.Dir(daemonBin) // removed by TestMain
		other := "arm64"
		if runtime.GOARCH == "arm64" {
			other = "amd64"
		}
		builds := []struct {
			name, ldflags, goarch string
		}{
			{"v1", "-X main.version=v1", ""},
			{"v2", "-X main.version=v2", ""},
			{"refuses", "-X main.version=v3 -X main.refuseHandover=yes", ""},
			{"other-arch", "-X main.version=v2", other},
		}
		upgradeBuilds.bins = map[string]string{}
		for _, b := range builds {
			out := filepath.Join(dir, "sandbox-api-"+b.name)
			args := []string{"build", "-ldflags", b.ldflags, "-o", out}
			env := []string{"CGO_ENABLED=0"}
			if os.Getenv("RACE_DAEMON") == "1" && b.goarch == "" {
				args = append(args, "-race")
				env = []string{"CGO_ENABLED=1"}
			}
			if b.goarch != "" {
				env = append(env, "GOARCH="+b.goarch)
			}
			if err := testsupport.GoBuild("", env, append(args, ".")...); err != nil {
				upgradeBuilds.err = err
				return
			}
			upgradeBuilds.bins[b.name] = out
		}
	})
	if upgradeBuilds.err != nil {
		t.Fatal(upgradeBuilds.err)
	}
	return upgradeBuilds.bins
}

// releaseSite serves files in the contract's release layout:
// /releases/latest/download/<asset> for the "latest" entry,
// /releases/download/<tag>/<asset> for the others; anything else is 404.
// A tag whose file is "" blocks until release is closed (an upgrade that
// stays under way).
func releaseSite(t testing.TB, files map[string]string, release <-chan struct{}) (base string) {
	t.Helper()
	asset := "sandbox-api-" + runtime.GOOS + "-" + runtime.GOARCH
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tag := ""
		switch {
		case r.URL.Path == "/releases/latest/download/"+asset:
			tag = "latest"
		case strings.HasPrefix(r.URL.Path, "/releases/download/") && strings.HasSuffix(r.URL.Path, "/"+asset):
			tag = strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/releases/download/"), "/"+asset)
		}
		file, ok := files[tag]
		switch {
		case !ok:
			http.NotFound(w, r)
		case file == "":
			<-release
			http.NotFound(w, r)
		default:
			http.ServeFile(w, r, file)
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/releases"
}

// healthJSON is /health as these tests read it.
type healthJSON struct {
	Version      string `json:"version"`
	UpgradeCount int    `json:"upgradeCount"`
	StartedAt    string `json:"startedAt"`
	LastUpgrade  struct {
		Status, Step, Version, DownloadURL, BinaryPath, Error, LastAttempt string
		BytesDownloaded                                                    int64
	} `json:"lastUpgrade"`
}

func (d *daemon) health() healthJSON {
	d.t.Helper()
	var h healthJSON
	d.doJSON(http.MethodGet, "/health", nil, http.StatusOK, &h)
	return h
}

// waitUpgradeOver waits until the last upgrade is no longer running.
func (d *daemon) waitUpgradeOver() healthJSON {
	d.t.Helper()
	var h healthJSON
	testsupport.Eventually(d.t, func() (bool, string) {
		h = d.health()
		return h.LastUpgrade.Status != "running", fmt.Sprintf("the upgrade still runs: %+v", h.LastUpgrade)
	})
	return h
}

// healthLoop calls /health in a tight loop, each call on a new
// connection, until stopped: what a load balancer's checks see.
type healthLoop struct {
	stop chan struct{}
	done chan struct{}

	mu       sync.Mutex
	calls    int
	failures []string
	longest  time.Duration
}

func startHealthLoop(url string) *healthLoop {
	l := &healthLoop{stop: make(chan struct{}), done: make(chan struct{})}
	client := &http.Client{Timeout: hangGuard, Transport: &http.Transport{DisableKeepAlives: true}}
	go func() {
		defer close(l.done)
		defer client.CloseIdleConnections()
		for {
			select {
			case <-l.stop:
				return
			default:
			}
			start := time.Now()
			resp, err := client.Get(url + "/health")
			failure := ""
			switch {
			case err != nil:
				failure = err.Error()
			case resp.StatusCode != http.StatusOK:
				failure = resp.Status
			}
			if resp != nil {
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			took := time.Since(start)
			l.mu.Lock()
			l.calls++
			l.longest = max(l.longest, took)
			if failure != "" {
				l.failures = append(l.failures, failure)
			}
			l.mu.Unlock()
		}
	}()
	return l
}

// callsMade is the number of calls made so far.
func (l *healthLoop) callsMade() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.calls
}

// end stops the loop and returns its calls, failures and longest call.
func (l *healthLoop) end() (calls int, failures []string, longest time.Duration) {
	close(l.stop)
	<-l.done
	return l.calls, l.failures, l.longest
}

// checkCounted checks that out is the lines 1..n, each once, in order,
// and returns n.
func checkCounted(t *testing.T, out string) int {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	for i, l := range lines {
		if l != strconv.Itoa(i+1) {
			t.Fatalf("line %d of the counter is %q, want %d: output lost or repeated across the switch", i+1, l, i+1)
		}
	}
	return len(lines)
}

func TestUpgradeKeepsEverything(t *testing.T) {
	checkUpgradeKeepsEverything(t, false)
}

// The same with the daemon as PID 1 of its own PID namespace, as in a
// container: it stays PID 1 and the parent of its processes.
func TestUpgradeKeepsEverythingAsPID1(t *testing.T) {
	requireUnshare(t)
	checkUpgradeKeepsEverything(t, true)
}

func checkUpgradeKeepsEverything(t *testing.T, pidns bool) {
	bins := upgradeBinaries(t)
	site := releaseSite(t, map[string]string{"v2": bins["v2"]}, nil)
	uploads := filepath.Join(t.TempDir(), "uploads")
	d := startDaemon(t, daemonOptions{bin: bins["v1"], pidns: pidns, args: []string{"--upgrade-dir", t.TempDir(), "--upload-dir", uploads}, env: []string{"SHELL=/bin/sh"}})
	mp := mpDaemon{daemon: d, uploadDir: uploads}
	before := d.health()
	if before.Version != "v1" || before.UpgradeCount != 0 || before.LastUpgrade.Status != "idle" {
		t.Fatalf("before the upgrade: %+v", before)
	}
	ppid := strconv.Itoa(d.pid)
	if pidns {
		ppid = "1"
	}

	counter := d.exec(map[string]any{"name": "counter", "command": "i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done"})
	exiter := d.exec(map[string]any{"name": "exiter", "command": "while [ ! -e exit-now ]; do sleep 0.02; done; exit 7"})
	cat := d.exec(map[string]any{"name": "cat", "command": "cat", "stdin": true})
	d.doJSON(http.MethodPost, "/process/cat/stdin", "before\n", http.StatusOK, nil)
	d.waitOutput("cat", "before\n")
	d.waitOutput("counter", "\n10\n")

	watched := t.TempDir()
	watch := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(watched), nil)
	watch.wantStream(t)
	term := dialTerminal(t, d, "sessionId=kept&workingDir="+url.QueryEscape(d.workDir))
	term.input("x=shell-kept; echo before-$((6*7))\n")
	term.mustSee("before-42")
	upload, dest := mp.initiate(filepath.Join(d.workDir, "uploaded.txt"), nil)
	part1 := mp.putPart(upload, 1, []byte("started before the switch, "))

	// A port monitor whose process opens its port only after the switch.
	cbURL, events := monitorCallback(t)
	port := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	gate := filepath.Join(t.TempDir(), "listen")
	listener := d.exec(map[string]any{"name": "listener", "command": listenCommand("127.0.0.1", port, gate)})
	d.doJSON(http.MethodPost, "/network/process/"+listener.PID+"/monitor", map[string]string{"callback": cbURL}, http.StatusOK, nil)

	// A restart policy and its counter: one failure before the switch.
	flaky := "echo run; while [ ! -e fail-now ]; do sleep 0.02; done; rm fail-now; exit 1"
	d.exec(map[string]any{"name": "flaky", "command": flaky, "restartOnFailure": true, "maxRestarts": 3})
	failFlaky := func(runs int) {
		t.Helper()
		touch(t, filepath.Join(d.workDir, "fail-now"))
		want := "run\n"
		for i := 1; i < runs; i++ {
			want += fmt.Sprintf("Attempting restart %d/3\nrun\n", i)
		}
		testsupport.Eventually(t, func() (bool, string) {
			p := d.get("flaky")
			return p.RestartCount == runs-1 && p.Status == "running" && p.StdoutText() == want, fmt.Sprintf("flaky is %s, want running after %d restarts, its output %q", p, runs-1, want)
		})
	}
	failFlaky(2)

	// The terminal's client reads on, as a browser does: it answers the
	// close frame of the switch at once.
	termEnd := make(chan error, 1)
	go func() {
		for {
			if _, _, err := term.conn.Read(context.Background()); err != nil {
				termEnd <- err
				return
			}
		}
	}()

	loop := startHealthLoop(d.url)
	start := time.Now()
	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"version": "v2", "baseUrl": site}, http.StatusOK, nil)
	var after healthJSON
	testsupport.Eventually(t, func() (bool, string) {
		after = d.health()
		return after.Version == "v2" || after.LastUpgrade.Status == "failed", fmt.Sprintf("still %s: %+v", after.Version, after.LastUpgrade)
	})
	switchTime := time.Since(start)
	// A few more calls on the new image.
	callsThen := loop.callsMade()
	testsupport.Until(t, "health calls after the switch", func() bool { return loop.callsMade() > callsThen+20 })
	calls, failures, longest := loop.end()
	t.Logf("switch (POST /upgrade to v2 answering /health): %s; %d /health calls on new connections meanwhile, the longest %s", switchTime.Round(time.Millisecond), calls, longest.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d of %d /health calls failed during the switch: %q", len(failures), calls, failures[:min(len(failures), 5)])
	}

	l := after.LastUpgrade
	if after.Version != "v2" || after.UpgradeCount != 1 || l.Status != "completed" || l.Step != "completed" || l.Version != "v2" ||
		l.DownloadURL != site+"/download/v2/sandbox-api-"+runtime.GOOS+"-"+runtime.GOARCH || l.BytesDownloaded == 0 || l.LastAttempt == "" || l.Error != "" {
		t.Fatalf("after the upgrade: %+v", after)
	}
	if after.StartedAt != before.StartedAt {
		t.Errorf("startedAt %s after the upgrade, want %s: the daemon never stopped", after.StartedAt, before.StartedAt)
	}
	select {
	case <-d.exited:
		t.Fatalf("the daemon's process exited (%v)", d.exitErr)
	default:
	}
	if p := d.exec(map[string]any{"command": "echo $PPID; cat /proc/$PPID/comm", "waitForCompletion": true}); p.StdoutText() != ppid+"\nsandbox-api-v1\n" {
		t.Errorf("a process started after the upgrade: parent and its name %q, want %s and sandbox-api-v1 (same pid, same name)", p.StdoutText(), ppid)
	}

	// The counter goes on, not a line lost or repeated.
	have := len(testsupport.Deref(d.logs("counter").Stdout))
	testsupport.Until(t, "the counter to go on", func() bool { return len(testsupport.Deref(d.logs("counter").Stdout)) > have+100 })
	if got := d.get("counter"); got.Status != "running" || got.PID != counter.PID {
		t.Fatalf("counter after the upgrade: %s", got)
	}
	n := checkCounted(t, testsupport.Deref(d.logs("counter").Stdout))
	t.Logf("the counter printed %d lines, across the switch", n)

	// The process that exits after the switch: its exact code.
	if err := os.WriteFile(filepath.Join(d.workDir, "exit-now"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if got := d.waitEnded("exiter"); got.Status != "failed" || got.ExitCode != 7 || got.PID != exiter.PID {
		t.Errorf("exiter after the upgrade: %s, want failed with 7", got)
	}

	// stdin: the pipe was handed over.
	d.doJSON(http.MethodPost, "/process/cat/stdin", "after\n", http.StatusOK, nil)
	d.doJSON(http.MethodDelete, "/process/cat/stdin", nil, http.StatusOK, nil)
	if got := d.waitEnded("cat"); got.Status != "completed" || got.StdoutText() != "before\nafter\n" || got.PID != cat.PID {
		t.Errorf("cat after the upgrade: %s, want before and after echoed", got)
	}

	// The monitor goes on: the port opened now is sent as new.
	openGate(t, gate)
	if ev := testsupport.Receive(t, events, "the callback for the port opened after the switch"); ev["pid"] != listener.PID || ev["port"] != float64(port) || ev["event"] != "open" {
		t.Errorf("callback after the switch %v, want pid %s port %d open", ev, listener.PID, port)
	}
	// The restart policy goes on from its counter.
	failFlaky(3)

	// The upload started before goes on: a part added, then completed.
	part2 := mp.putPart(upload, 2, []byte("completed after it"))
	mp.complete(upload, part1, part2)
	if got, err := os.ReadFile(dest); err != nil || string(got) != "started before the switch, completed after it" {
		t.Errorf("the upload across the switch: %q (%v)", got, err)
	}

	// The watch ended with the switch; reconnected, it sees new events.
	testsupport.Until(t, "the watch opened before the switch to end", func() bool {
		select {
		case _, ok := <-watch.lines.lines:
			return !ok
		default:
			return false
		}
	})
	again := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(watched), nil)
	again.wantStream(t)
	touch(t, filepath.Join(watched, "new"))
	again.waitEvent(t, "CREATE", filepath.Join(watched, "new"))

	// The terminal session goes on: its socket ended with the switch
	// (1012, service restart); reattached, it replays what it showed and
	// runs what it is given, in the same shell.
	var err error
	testsupport.Until(t, "the terminal socket open at the switch to end", func() bool {
		select {
		case err = <-termEnd:
			return true
		default:
			return false
		}
	})
	if code := websocket.CloseStatus(err); code != websocket.StatusServiceRestart {
		t.Errorf("the terminal socket open at the switch ended with %v (code %d), want 1012", err, code)
	}
	back := dialTerminal(t, d, "sessionId=kept")
	back.mustSee("before-42")
	back.input("echo after-$((2*3))-$x\n")
	back.mustSee("after-6-shell-kept")
	back.conn.Close(websocket.StatusNormalClosure, "bye")
}

// A client calling /health in a tight loop, each call on a new connection,
// sees no failed call across switch after switch: the listening socket is
// never closed, and every connection accepted is answered.
func TestUpgradeHealthLoopNeverFails(t *testing.T) {
	bins := upgradeBinaries(t)
	d := startDaemon(t, daemonOptions{bin: bins["v1"], args: []string{"--upgrade-dir", t.TempDir()}})
	loop := startHealthLoop(d.url)
	version := "v1"
	for i := 0; i < 6; i++ {
		version = map[string]string{"v1": "v2", "v2": "v1"}[version]
		d.doJSON(http.MethodPost, "/upgrade", map[string]string{"binaryPath": bins[version]}, http.StatusOK, nil)
		testsupport.Until(t, version+" to answer", func() bool { return d.health().Version == version })
		// Calls on the new image too, before the next switch.
		calls := loop.callsMade()
		testsupport.Until(t, "health calls after the switch", func() bool { return loop.callsMade() > calls+10 })
	}
	calls, failures, longest := loop.end()
	t.Logf("%d /health calls on new connections across 6 switches, the longest %s", calls, longest.Round(time.Millisecond))
	if len(failures) > 0 {
		t.Errorf("%d of %d /health calls failed: %q", len(failures), calls, failures[:min(len(failures), 5)])
	}
	if h := d.health(); h.UpgradeCount != 6 {
		t.Errorf("upgradeCount %d after 6 switches", h.UpgradeCount)
	}
}

// A switch the new binary cannot complete (it refuses the state once it
// has resumed the processes) rolls back: the earlier binary runs again,
// same pid, with every process as it was and the output whole, and
// /health says why.
func TestUpgradeRollsBack(t *testing.T) {
	bins := upgradeBinaries(t)
	d := startDaemon(t, daemonOptions{bin: bins["v1"], args: []string{"--upgrade-dir", t.TempDir()}})
	counter := d.exec(map[string]any{"name": "counter", "command": "i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done"})
	d.waitOutput("counter", "\n10\n")

	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"binaryPath": bins["refuses"]}, http.StatusOK, nil)
	h := d.waitUpgradeOver()
	l := h.LastUpgrade
	if h.Version != "v1" || h.UpgradeCount != 0 || l.Status != "failed" || l.Step != "replace" || l.Version != "v3" ||
		!strings.Contains(l.Error, "could not take over") || !strings.Contains(l.Error, "refuses every hand-over") {
		t.Fatalf("after a rolled-back switch: %+v", h)
	}
	select {
	case <-d.exited:
		t.Fatalf("the daemon's process exited (%v)", d.exitErr)
	default:
	}
	have := len(testsupport.Deref(d.logs("counter").Stdout))
	testsupport.Until(t, "the counter to go on", func() bool { return len(testsupport.Deref(d.logs("counter").Stdout)) > have+50 })
	if got := d.get("counter"); got.Status != "running" || got.PID != counter.PID {
		t.Fatalf("counter after the roll-back: %s", got)
	}
	checkCounted(t, testsupport.Deref(d.logs("counter").Stdout))
	if p := d.exec(map[string]any{"command": "echo $PPID", "waitForCompletion": true}); p.StdoutText() != strconv.Itoa(d.pid)+"\n" {
		t.Errorf("parent of a process after the roll-back %q, want the daemon's pid %d", p.StdoutText(), d.pid)
	}
	// A later upgrade still works.
	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"binaryPath": bins["v2"]}, http.StatusOK, nil)
	testsupport.Until(t, "v2 to answer", func() bool { return d.health().Version == "v2" })
	if h := d.health(); h.UpgradeCount != 1 || h.LastUpgrade.Status != "completed" {
		t.Fatalf("an upgrade after the roll-back: %+v", h)
	}
}

// A binary that cannot be the daemon is refused before anything changes:
// the daemon goes on serving, unchanged, and /health says at which step and
// why.
func TestUpgradeFailuresLeaveTheDaemonAsItWas(t *testing.T) {
	bins := upgradeBinaries(t)
	text := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(text, []byte("not a program\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	site := releaseSite(t, map[string]string{
		"v2":         bins["v2"],
		"text":       text,
		"other-arch": bins["other-arch"],
		"exits":      helperBin, // exits at once, on any argument it does not know
		"slow":       "",
	}, release)
	d := startDaemon(t, daemonOptions{bin: bins["v1"], args: []string{"--upgrade-dir", t.TempDir()}})
	p := d.exec(map[string]any{"name": "sleeper", "command": "sleep 1000"})

	zeros := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name string
		body map[string]string
		step string
		want string
	}{
		{"a 404", map[string]string{"version": "v9", "baseUrl": site}, "download", "404"},
		{"a non-executable", map[string]string{"version": "text", "baseUrl": site}, "validate", "not an executable"},
		{"another architecture", map[string]string{"version": "other-arch", "baseUrl": site}, "validate", "another platform"},
		{"a binary that exits at once", map[string]string{"version": "exits", "baseUrl": site}, "validate", "not a working sandbox-api binary"},
		{"a wrong sha256", map[string]string{"version": "v2", "baseUrl": site, "sha256": zeros}, "validate", "sha256 mismatch"},
		{"a missing binaryPath", map[string]string{"binaryPath": "/no/such/binary"}, "download", "no such file"},
	} {
		d.doJSON(http.MethodPost, "/upgrade", tc.body, http.StatusOK, nil)
		h := d.waitUpgradeOver()
		if l := h.LastUpgrade; l.Status != "failed" || l.Step != tc.step || !strings.Contains(l.Error, tc.want) {
			t.Errorf("%s: lastUpgrade %+v, want failed at %s with %q", tc.name, l, tc.step, tc.want)
		}
		if h.Version != "v1" || h.UpgradeCount != 0 {
			t.Errorf("%s: the daemon changed: %+v", tc.name, h)
		}
		if got := d.get("sleeper"); got.Status != "running" || got.PID != p.PID {
			t.Errorf("%s: the sleeper is %s", tc.name, got)
		}
	}

	// Refused at once: no release site, a bad version, a URL that is no
	// release site.
	d.wantError(http.MethodPost, "/upgrade", map[string]string{"version": "v2"}, http.StatusBadRequest)
	d.wantError(http.MethodPost, "/upgrade", map[string]string{"version": "../v2", "baseUrl": site}, http.StatusBadRequest)
	d.wantError(http.MethodPost, "/upgrade", map[string]string{"baseUrl": "file:///etc"}, http.StatusBadRequest)

	// One at a time.
	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"version": "slow", "baseUrl": site}, http.StatusOK, nil)
	if msg := d.wantError(http.MethodPost, "/upgrade", map[string]string{"version": "v2", "baseUrl": site}, http.StatusConflict); !strings.Contains(msg, "already running") {
		t.Errorf("a second upgrade: %q", msg)
	}
	// It says "starting" until its goroutine begins the download, which
	// then waits for release.
	var h healthJSON
	testsupport.Until(t, "the slow upgrade to reach its download", func() bool {
		h = d.health()
		return h.LastUpgrade.Step != "starting"
	})
	running := h.LastUpgrade
	if running.Status != "running" || running.Step != "download" || running.Version != "slow" {
		t.Errorf("while one runs: %+v", running)
	}
	close(release)
	d.waitUpgradeOver()
}

// With --upgrade-base-url, a request needs no baseUrl; `docker cp` and
// SIGUSR2 switch to the binary at the daemon's own path.
func TestUpgradeDefaultsAndSignal(t *testing.T) {
	bins := upgradeBinaries(t)
	site := releaseSite(t, map[string]string{"latest": bins["v2"]}, nil)
	// The daemon runs from a path of its own, where a new binary is put
	// as `docker cp` would (beside it, then renamed over it: a running
	// binary cannot be written, ETXTBSY).
	own := filepath.Join(t.TempDir(), "sandbox-api")
	copyFile(t, bins["v1"], own)
	d := startDaemon(t, daemonOptions{bin: own, args: []string{"--upgrade-dir", t.TempDir(), "--upgrade-base-url", site}})
	d.doJSON(http.MethodPost, "/upgrade", nil, http.StatusOK, nil)
	h := d.waitUpgradeOver()
	if h.Version != "v2" || h.LastUpgrade.Version != "latest" || !strings.HasSuffix(h.LastUpgrade.DownloadURL, "/releases/latest/download/sandbox-api-"+runtime.GOOS+"-"+runtime.GOARCH) {
		t.Fatalf("an upgrade to the default: %+v", h)
	}

	copyFile(t, bins["v1"], own+".new")
	if err := os.Rename(own+".new", own); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(d.pid, syscall.SIGUSR2); err != nil {
		t.Fatal(err)
	}
	testsupport.Until(t, "the daemon to run the binary at its own path again", func() bool { return d.health().Version == "v1" })
	if h := d.health(); h.UpgradeCount != 2 || h.LastUpgrade.Status != "completed" || h.LastUpgrade.Version != "v1" {
		t.Fatalf("after SIGUSR2: %+v", h)
	}
}

// Under --user the workload must not choose what runs as root: only the
// operator's release site, with a sha256, or a binary only root could have
// written.
func TestUpgradeUnderUser(t *testing.T) {
	bins := upgradeBinaries(t)
	site := releaseSite(t, map[string]string{"v2": bins["v2"]}, nil)
	other := releaseSite(t, map[string]string{"v2": bins["v2"]}, nil)
	data, err := os.ReadFile(bins["v2"])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	d := startUserDaemon(t, "--upgrade-dir", t.TempDir(), "--upgrade-base-url", site)

	userFile := filepath.Join(d.workDir, "sandbox-api")
	copyFile(t, bins["v2"], userFile)
	if err := os.Chown(userFile, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	for _, body := range []map[string]string{
		{"version": "v2", "baseUrl": other, "sha256": hex.EncodeToString(sum[:])}, // not the operator's
		{"version": "v2"},           // no sha256
		{"binaryPath": userFile},    // the user's
		{"binaryPath": bins["v2"]},  // root's, in a folder anyone may write (/tmp)
		{"binaryPath": "/bin/true"}, // root's, but not a sandbox-api: allowed to the next check
	} {
		resp, msg := d.do(http.MethodPost, "/upgrade", body)
		if body["binaryPath"] == "/bin/true" {
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%v: %d %s, want 200 (root's binary, refused later)", body, resp.StatusCode, msg)
			}
			if h := d.waitUpgradeOver(); h.LastUpgrade.Step != "validate" {
				t.Errorf("/bin/true: %+v", h.LastUpgrade)
			}
			continue
		}
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("%v under --user: %d %s, want 403", body, resp.StatusCode, msg)
		}
	}
	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"version": "v2", "sha256": hex.EncodeToString(sum[:])}, http.StatusOK, nil)
	testsupport.Until(t, "v2 to answer", func() bool { return d.health().Version == "v2" })
	if p := d.exec(map[string]any{"command": "id -u", "waitForCompletion": true}); p.StdoutText() != d.uid+"\n" {
		t.Errorf("after the upgrade a process runs as %q, want nobody's %s", p.StdoutText(), d.uid)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o755); err != nil {
		t.Fatal(err)
	}
}

// The log folder stays this daemon's across a switch (the lock is handed
// over, not let go), and the records journal goes on in the new image: a
// crash after the upgrade, then a restart on the folder, lists the
// processes of before and after the switch with their output.
func TestUpgradeKeepsTheLogDirThroughACrash(t *testing.T) {
	bins := upgradeBinaries(t)
	d := startDaemon(t, daemonOptions{bin: bins["v1"], args: []string{"--upgrade-dir", t.TempDir()}})
	d.exec(map[string]any{"name": "before", "command": "echo from-before", "waitForCompletion": true})
	d.doJSON(http.MethodPost, "/upgrade", map[string]string{"binaryPath": bins["v2"]}, http.StatusOK, nil)
	testsupport.Until(t, "v2 to answer", func() bool { return d.health().Version == "v2" })

	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	second := exec.CommandContext(ctx, daemonBin, "-p", "0", "--host", "127.0.0.1", "--log-dir", d.logDir)
	second.Env = append(os.Environ(), "SANDBOX_API_TOKEN=")
	out, err := second.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 || !strings.Contains(string(out), "pid "+strconv.Itoa(d.pid)) {
		t.Fatalf("a second daemon on the folder after the upgrade: %v, want exit status 1 naming pid %d; output:\n%s", err, d.pid, out)
	}

	d.exec(map[string]any{"name": "after", "command": "echo from-after", "waitForCompletion": true})
	d.crash()
	restarted := startDaemon(t, daemonOptions{args: []string{"--log-dir", d.logDir}})
	// As after any crash, the records whose end no clean shutdown wrote
	// come back failed, their output whole, the restart line last.
	for name, want := range map[string]string{"before": "from-before\n", "after": "from-after\n"} {
		want += unsupervisedLine + "\n"
		if got := testsupport.Deref(restarted.logs(name).Stdout); got != want {
			t.Errorf("after the crash, the output of %q is %q, want %q", name, got, want)
		}
	}
}
