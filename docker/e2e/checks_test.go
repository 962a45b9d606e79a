//go:build e2eimage

package e2e

import (
	"fmt"
	"net/http"
	"path"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The checks every image goes through, each against the daemon of a running
// container, from outside through its published port.

// waitProcess polls GET /process/{name} until ok holds, under the hang
// guard: processes print and end on their own time, so a single look would
// be flaky.
func waitProcess(t *testing.T, c *ctr, name string, what string, ok func(proc) bool) proc {
	t.Helper()
	const max = testsupport.HangGuard
	deadline := time.Now().Add(max)
	for {
		p, code, err := c.api.process(name)
		if err == nil && code == http.StatusOK && ok(p) {
			return p
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Fatalf("GET /process/%s: %v", name, err)
			}
			if code != http.StatusOK {
				t.Fatalf("GET /process/%s answered %d after %s: the process was not started under that name", name, code, max)
			}
			t.Fatalf("process %q is not %s after %s: %v", name, what, max, p)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// checkRunning: the process is found by name, still running, its output
// holds want, and GET /process/{name}/logs serves the same output.
func checkRunning(t *testing.T, c *ctr, name, want string) proc {
	t.Helper()
	p := waitProcess(t, c, name, "running with "+fmt.Sprintf("%q", want)+" in its logs", func(p proc) bool {
		return p.Status == "running" && strings.Contains(p.LogsText(), want)
	})
	checkLogsEndpoint(t, c, name, want)
	return p
}

// checkCompleted: the process is found by name, ended with exit code 0,
// and its whole output is exactly want.
func checkCompleted(t *testing.T, c *ctr, name, want string) proc {
	t.Helper()
	p := waitProcess(t, c, name, "completed", func(p proc) bool {
		return p.Status != "running"
	})
	if p.Status != "completed" || p.ExitCode != 0 || p.LogsText() != want {
		t.Fatalf("process %q: want completed, exit 0, logs %q; got %v", name, want, p)
	}
	checkLogsEndpoint(t, c, name, want)
	return p
}

func checkLogsEndpoint(t *testing.T, c *ctr, name, want string) {
	t.Helper()
	logs, err := c.api.logs(name)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs, want) {
		t.Fatalf("GET /process/%s/logs lacks %q: %q", name, want, logs)
	}
}

// checkListed: GET /process lists each name exactly once.
func checkListed(t *testing.T, c *ctr, names ...string) {
	t.Helper()
	ps, err := c.api.list()
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	var all []string
	for _, p := range ps {
		count[p.Name]++
		all = append(all, p.Name)
	}
	for _, n := range names {
		if count[n] != 1 {
			t.Fatalf("GET /process lists %q %d times, want once; it lists %v", n, count[n], all)
		}
	}
}

// checkPostInside: POST /process runs a command inside this container (it
// reads the container's own hostname) and returns its output.
func checkPostInside(t *testing.T, c *ctr) {
	t.Helper()
	hostname := c.inspect("{{.Config.Hostname}}")
	p, code, body, err := c.api.start(map[string]any{
		"name":              "probe",
		"command":           "cat /etc/hostname; echo inside-$((6*7))",
		"waitForCompletion": true,
	})
	if err != nil {
		t.Fatal(err)
	}
	if code != http.StatusOK {
		t.Fatalf("POST /process: %d %s", code, body)
	}
	if p.Status != "completed" || p.ExitCode != 0 || p.LogsText() != hostname+"\ninside-42\n" {
		t.Fatalf("POST /process in %s: want completed, exit 0, logs %q; got %v", c.spec.image, hostname+"\ninside-42\n", p)
	}
}

// checkOrphansReaped starts commands that leave orphans behind, sees the
// orphans adopted by the daemon (the subreaper, or PID 1 itself), ends
// them, then sees them reaped: ps inside shows no zombie at all. The
// orphans live until the test ends them, so each step waits for its event.
func checkOrphansReaped(t *testing.T, c *ctr) {
	t.Helper()
	daemon := daemonPid(t, c)
	const rounds = 5
	for i := 1; i <= rounds; i++ {
		_, code, body, err := c.api.start(map[string]any{
			"name":              fmt.Sprintf("orphans-%d", i),
			"command":           "sh -c '(sleep 300 &) ; (sleep 300 &); exit 0'",
			"waitForCompletion": false,
		})
		if err != nil || code != http.StatusOK {
			t.Fatalf("POST /process orphans-%d: %v %d %s", i, err, code, body)
		}
	}
	// The orphans exist and belong to the daemon: without this the absence
	// of zombies below would prove nothing.
	var orphans []string
	out := ""
	for deadline := time.Now().Add(testsupport.HangGuard); len(orphans) < 2*rounds; time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d orphans `sleep 300` seen adopted by the daemon (pid %d):\n%s", len(orphans), 2*rounds, daemon, out)
		}
		var ps []psLine
		ps, out = c.processes()
		orphans = orphans[:0]
		for _, p := range ps {
			if p.args == "sleep 300" && p.ppid == daemon {
				orphans = append(orphans, strconv.Itoa(p.pid))
			}
		}
	}
	t.Logf("%d orphans seen adopted by the daemon (pid %d in the container)", len(orphans), daemon)
	for i := 1; i <= rounds; i++ {
		checkCompleted(t, c, fmt.Sprintf("orphans-%d", i), "")
	}
	// The orphans end; then nothing may be left.
	if _, err := c.exec("sh", "-c", "kill "+strings.Join(orphans, " ")); err != nil {
		t.Fatalf("end the orphans: %v", err)
	}
	deadline := time.Now().Add(testsupport.HangGuard)
	for {
		ps, out := c.processes()
		var left []string
		for _, p := range ps {
			if strings.HasPrefix(p.stat, "Z") || p.args == "sleep 300" {
				left = append(left, fmt.Sprintf("%s %d %s", p.stat, p.pid, p.args))
			}
		}
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("orphans or zombies left after the orphans' end: %v\n%s", left, out)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// daemonPid is the daemon's pid inside the container.
func daemonPid(t *testing.T, c *ctr) int {
	t.Helper()
	ps, out := c.processes()
	for _, p := range ps {
		if f := strings.Fields(p.args); len(f) > 0 && path.Base(f[0]) == "sandbox-api" {
			return p.pid
		}
	}
	t.Fatalf("no sandbox-api process in the container:\n%s", out)
	return 0
}

// checkStop: `docker stop` (SIGTERM, SIGKILL only after the hang guard)
// ends the container with exit code 0, and the managed process that traps
// SIGTERM wrote its marker: it was shut down, not killed. A lost SIGTERM
// shows as docker's SIGKILL (exit code 137), not as a time.
func checkStop(t *testing.T, c *ctr, marker, want string) time.Duration {
	t.Helper()
	took, code := c.stop()
	if code != 0 {
		t.Errorf("exit code after docker stop: %d, want 0 (137: SIGTERM was lost and docker killed it)", code)
	}
	if marker != "" {
		got, err := c.readFile(marker)
		if err != nil {
			t.Errorf("the process trapping SIGTERM left no %s: it was not shut down gracefully (%v)", marker, err)
		} else if strings.TrimSpace(got) != want {
			t.Errorf("%s holds %q, want %q", marker, got, want)
		}
	}
	return took
}
