//go:build e2eimage

package e2e

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// Each scenario runs one image and goes through the checks. They return
// the figures of the run: time from `docker run` to /health, and of
// `docker stop`.

type timings struct{ ready, stop time.Duration }

// healthMax bounds the wait for /health: a hang guard, not a figure.
const healthMax = testsupport.HangGuard

// The startup commands given to entrypoint.sh through SANDBOX_STARTUP.
// The first line is unnamed (so startup-1) and its quotes, backslash,
// dollar and tab must reach the shell unchanged: the entrypoint has to
// escape them into JSON by itself. Comments and empty lines are skipped.
// `web` traps SIGTERM and leaves a marker, so a graceful shutdown can be
// told from a kill. The second `web` is refused by the API (the name is
// held by a running process): the entrypoint reports it and goes on to
// `late`.
const (
	startup1Command = "printf '%s|%s|%s|%s\\n' 'q\"uote' 'back\\slash' 'dollar$HOME' 'tab\tx'"
	startup1Output  = "q\"uote|back\\slash|dollar$HOME|tab\tx\n"
	webCommand      = "trap 'echo web-got-TERM > /tmp/web.term; exit 0' TERM; echo web-ready; while :; do sleep 1; done"
	nameInUseError  = "already has this name" // the API's error for a name held by a running process
)

func sandboxStartup(extra ...string) string {
	lines := []string{
		startup1Command,
		"# a comment, then an empty line",
		"",
		"web: " + webCommand,
		"web: echo duplicate-name",
		"late: echo late-ran",
	}
	return strings.Join(append(lines, extra...), "\n")
}

// entrypointRun describes a run of an example image through entrypoint.sh.
type entrypointRun struct {
	image       string
	mainArgs    []string // the container's arguments: one command, `main`
	mainCommand string   // the arguments joined with spaces
	mainOutput  string   // expected in main's logs
	extra       []string // more SANDBOX_STARTUP lines
	ports       []int    // more ports to publish
	ps          []string
	more        func(t *testing.T, c *ctr) // checks of this image only
}

const workDir = "/opt/work" // docker run -w: the entrypoint's cwd

func runWithEntrypoint(t *testing.T, d *dockerCLI, r entrypointRun) timings {
	ps := r.ps
	if ps == nil {
		ps = defaultPS
	}
	c := runContainer(t, d, runSpec{
		image: r.image,
		flags: []string{"-w", workDir, "-e", "SANDBOX_STARTUP=" + sandboxStartup(r.extra...)},
		args:  r.mainArgs,
		ports: r.ports,
		ps:    ps,
	})
	var tm timings
	tm.ready = c.waitHealthy(healthMax)

	m := checkRunning(t, c, "main", r.mainOutput)
	if m.Command != r.mainCommand {
		t.Errorf("main runs %q, want the arguments joined: %q", m.Command, r.mainCommand)
	}
	w := checkRunning(t, c, "web", "web-ready")
	for _, p := range []proc{m, w} {
		if p.WorkingDir != workDir {
			t.Errorf("%s runs in %q, want the entrypoint's cwd %q", p.Name, p.WorkingDir, workDir)
		}
	}
	checkCompleted(t, c, "startup-1", startup1Output)
	checkCompleted(t, c, "late", "late-ran\n")
	checkListed(t, c, "main", "startup-1", "web", "late")
	if out := c.logs(); !strings.Contains(out, nameInUseError) {
		t.Errorf("the refused start of the second `web` is not reported with the API's error (%q); the container printed, besides the daemon's log:\n%s", nameInUseError, tail(notJSON(out), 3000))
	}
	checkPostInside(t, c)
	checkOrphansReaped(t, c)
	if r.more != nil {
		r.more(t, c)
	}
	tm.stop = checkStop(t, c, "/tmp/web.term", "web-got-TERM")
	return tm
}

// runDaemonEntrypoint runs an image whose entrypoint is the daemon itself
// with -c: PID 1 is sandbox-api, the command is `boot-command`.
func runDaemonEntrypoint(t *testing.T, d *dockerCLI, spec runSpec, wantPID1, marker string) timings {
	c := runContainer(t, d, spec)
	var tm timings
	tm.ready = c.waitHealthy(healthMax)
	checkPID1(t, c, wantPID1)
	checkRunning(t, c, "boot-command", "boot-ready")
	checkListed(t, c, "boot-command")
	checkPostInside(t, c)
	checkOrphansReaped(t, c)
	tm.stop = checkStop(t, c, marker, "boot-got-TERM")
	return tm
}

func checkPID1(t *testing.T, c *ctr, want string) {
	t.Helper()
	cmdline, isPID1 := c.pid1()
	if !isPID1 || !strings.HasPrefix(cmdline, want) {
		t.Errorf("PID 1 of the container: %q (pid 1 in its namespace: %v), want %s", cmdline, isPID1, want)
	}
}

// runPublishedAlone runs the published image as it is: the daemon as PID
// 1 and no shell at all. It serves; commands cannot run (no /bin/sh) and
// that is reported, not fatal.
func runPublishedAlone(t *testing.T, d *dockerCLI) timings {
	c := runContainer(t, d, runSpec{image: publishedTag, args: []string{"-c", "echo from-boot"}})
	var tm timings
	tm.ready = c.waitHealthy(healthMax)
	checkPID1(t, c, "/sandbox-api")
	if out := c.logs(); !strings.Contains(out, "boot command did not start") {
		t.Errorf("without a shell the boot command cannot start, and the daemon should say so:\n%s", tail(out, 3000))
	}
	// In a container too (Docker's default seccomp profile, PID 1), the
	// runtime's code moves onto a huge page a moment after the start.
	testsupport.Until(t, "the daemon's log line about its code's pages", func() bool {
		return strings.Contains(c.logs(), `"msg":"runtime code `)
	})
	if out := c.logs(); !strings.Contains(out, "runtime code moved onto a huge page") {
		t.Errorf("the daemon's code did not move onto a huge page in the container:\n%s", tail(out, 3000))
	}
	code, body, err := c.api.do("POST", "/process", map[string]any{"command": "echo hi", "waitForCompletion": true})
	if err != nil {
		t.Fatal(err)
	}
	if code == http.StatusOK || !strings.Contains(string(body), `"error"`) {
		t.Errorf("POST /process in an image without a shell: %d %s, want an error answer", code, body)
	}
	if !c.api.healthy() {
		t.Error("the daemon stopped answering /health after a command failed to start")
	}
	tm.stop = checkStop(t, c, "", "")
	return tm
}

// checkReadyTimeout: when the daemon never answers /health (it listens on
// another address), entrypoint.sh gives up after SANDBOX_READY_TIMEOUT
// seconds with an error naming the URL and the limit, and exits 1.
func checkReadyTimeout(t *testing.T, d *dockerCLI, image string) {
	const limit = 3
	c := runContainer(t, d, runSpec{image: image, flags: []string{
		"-e", "SANDBOX_API_ARGS=--host=127.0.0.2",
		"-e", "SANDBOX_READY_TIMEOUT=" + strconv.Itoa(limit),
	}})
	out, err := d.run(testsupport.HangGuard, "wait", c.name)
	took := time.Since(c.runAt)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := strconv.Atoi(strings.TrimSpace(out))
	logs := c.logs()
	if code != 1 {
		t.Errorf("exit code %d, want 1", code)
	}
	if took < limit*time.Second {
		t.Errorf("the entrypoint gave up after %s, before its %d s", took, limit)
	}
	if !strings.Contains(logs, ":8080/health") || !strings.Contains(logs, strconv.Itoa(limit)) {
		t.Errorf("the error should name the URL (…:8080/health) and the limit (%d s):\n%s", limit, tail(notJSON(logs), 3000))
	}
	t.Logf("gave up after %s, saying:\n%s", took.Round(time.Millisecond), tail(notJSON(logs), 1000))
}

// checkRestartAfterCrash: a daemon killed with SIGKILL inside the
// container is started again by entrypoint.sh, and the new daemon lists the
// earlier process with its output, failed and no longer supervised; then
// `docker stop` still ends the container with exit code 0.
func checkRestartAfterCrash(t *testing.T, d *dockerCLI, image string) {
	c := runContainer(t, d, runSpec{image: image, ps: defaultPS, flags: []string{
		"-e", "SANDBOX_STARTUP=svc: echo before-the-crash; exec sleep 86400",
	}})
	c.waitHealthy(healthMax)
	waitProcess(t, c, "svc", "running with its output", func(p proc) bool {
		return p.Status == "running" && p.LogsText() == "before-the-crash\n"
	})
	first := daemonPid(t, c)
	if _, err := c.exec("sh", "-c", "kill -9 "+strconv.Itoa(first)); err != nil {
		t.Fatalf("kill the daemon: %v", err)
	}
	const said = "entrypoint: sandbox-api exited with status 137 on its own; restarting it"
	for deadline := time.Now().Add(testsupport.HangGuard); !strings.Contains(c.logs(), said); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the entrypoint never said %q:\n%s", said, tail(notJSON(c.logs()), 3000))
		}
	}
	c.waitHealthy(healthMax)
	p := waitProcess(t, c, "svc", "listed as failed by the new daemon", func(p proc) bool { return p.Status == "failed" })
	if want := "before-the-crash\n[sandbox-api: the daemon restarted; this process is no longer supervised (pid " + p.PID + " still runs; its output is no longer kept)]\n"; p.LogsText() != want {
		t.Errorf("svc's output after the restart: %q, want %q", p.LogsText(), want)
	}
	if second := daemonPid(t, c); second == first {
		t.Errorf("the daemon's pid did not change (%d): no new daemon", first)
	}
	checkStop(t, c, "", "")
}

// checkHTTPPort: a server a startup command started answers HTTP from
// outside, through the example's published port (any status: the point is
// that the request reached it).
func checkHTTPPort(t *testing.T, c *ctr, port int) {
	t.Helper()
	addr := c.ports[port]
	client := http.Client{Timeout: testsupport.HangGuard}
	deadline := time.Now().Add(testsupport.HangGuard)
	for {
		resp, err := client.Get("http://" + addr + "/")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			t.Logf("port %d, published at %s, answers: %s", port, addr, resp.Status)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("port %d (published at %s) does not answer: %v", port, addr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
