package main

// The daemon as PID 1 of its own PID namespace, as in a container: it must
// reap orphans without ever taking an exit status os/exec waits for.

import (
	"errors"
	"fmt"
	"net/http"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// requireUnshare skips when PID namespaces cannot be made here, saying why.
func requireUnshare(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("unshare"); err != nil {
		t.Skipf("skipping: unshare(1) is not installed: %v", err)
	}
	out, err := exec.Command("unshare", "--pid", "--fork", "--mount-proc", "true").CombinedOutput()
	if err != nil {
		if strings.Contains(string(out), "Operation not permitted") || errors.Is(err, syscall.EPERM) {
			t.Skipf("skipping: unshare --pid is not permitted here (EPERM): %s", strings.TrimSpace(string(out)))
		}
		t.Fatalf("unshare --pid --fork --mount-proc true: %v: %s", err, out)
	}
}

func TestPIDNamespaceReaper(t *testing.T) {
	t.Parallel()
	requireUnshare(t)
	d := startDaemon(t, daemonOptions{pidns: true})

	// The daemon is PID 1 of the namespace.
	p := d.exec(map[string]any{"command": "echo $PPID; cat /proc/1/comm", "waitForCompletion": true})
	if p.StdoutText() != "1\nsandbox-api\n" {
		t.Fatalf("inside the namespace: parent pid and PID 1 name %q, want 1 and sandbox-api", p.StdoutText())
	}

	orphanMakers := []string{
		"(sleep 0.2 &); exit 0",
		"sh -c 'sleep 0.1 & exit 0'",
		"sleep 0.05 & sleep 0.05 & exit 0",
		"(true &); (false &); (sh -c 'exit 9' &); exit 0",
		"for i in 1 2 3 4 5; do (sleep 0.0$i &); done; exit 0",
	}
	var (
		wg     sync.WaitGroup
		mu     sync.Mutex
		errs   []string
		checks int
	)
	fail := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if len(errs) < 20 {
			errs = append(errs, fmt.Sprintf(format, args...))
		}
	}
	// Orphans, continuously.
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 30; i++ {
				cmd := orphanMakers[(w+i)%len(orphanMakers)]
				var r proc
				resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": cmd, "waitForCompletion": true})
				if resp.StatusCode != http.StatusOK {
					fail("%q: status %d: %s", cmd, resp.StatusCode, body)
					continue
				}
				if err := jsonUnmarshal(body, &r); err != nil || r.Status != "completed" || r.ExitCode != 0 {
					fail("orphan maker %q ended %s/%d, want completed/0", cmd, r.Status, r.ExitCode)
				}
			}
		}()
	}
	// Managed processes with distinct exit codes, some leaving orphans too.
	for w := 0; w < 4; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				code := (w*50+i)%254 + 1
				cmd := fmt.Sprintf("exit %d", code)
				if i%3 == 0 {
					cmd = fmt.Sprintf("(sleep 0.1 &); exit %d", code)
				}
				var r proc
				resp, body := d.do(http.MethodPost, "/process", map[string]any{"command": cmd, "waitForCompletion": true})
				if resp.StatusCode != http.StatusOK {
					fail("%q: status %d: %s", cmd, resp.StatusCode, body)
					continue
				}
				if err := jsonUnmarshal(body, &r); err != nil || r.Status != "failed" || r.ExitCode != code {
					fail("%q reported %s/%d, want failed/%d (exit status stolen?)", cmd, r.Status, r.ExitCode, code)
				}
				mu.Lock()
				checks++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for _, e := range errs {
		t.Error(e)
	}
	if checks != 200 {
		t.Errorf("%d exit codes checked, want 200", checks)
	}

	// Once the orphans' sleeps are over, every one has been reaped: the
	// daemon has no child left, zombie or not.
	testsupport.Eventually(t, func() (bool, string) {
		kids := testsupport.ChildrenOf(d.pid)
		var states []string
		for _, k := range kids {
			state, _, _, ok := procStat(k)
			if ok {
				states = append(states, fmt.Sprintf("%d:%c", k, state))
			}
		}
		shown := states[:min(len(states), 20)]
		return len(states) == 0, fmt.Sprintf("%d children of the daemon (host pid %d) left, e.g. pid:state %v", len(states), d.pid, shown)
	})

	// The same, seen from inside the namespace: no zombie at all.
	p = d.exec(map[string]any{
		"command":           `for f in /proc/[0-9]*/stat; do read -r l < "$f" 2>/dev/null && echo "$l"; done`,
		"waitForCompletion": true,
	})
	procs := 0
	for _, line := range strings.Split(strings.TrimSpace(p.StdoutText()), "\n") {
		i := strings.LastIndexByte(line, ')')
		if i < 0 || i+2 >= len(line) {
			t.Fatalf("unexpected stat line %q", line)
		}
		procs++
		if line[i+2] == 'Z' {
			t.Errorf("zombie inside the namespace: %s", line)
		}
	}
	if procs < 2 || procs > 4 { // PID 1, the shell, and perhaps a subshell
		t.Errorf("%d processes inside the namespace, want the daemon and the checking shell:\n%s", procs, p.StdoutText())
	}

	// SIGTERM to PID 1 of the namespace shuts it down cleanly; unshare exits
	// with the daemon's status.
	d.exec(map[string]any{"command": "sleep 1000"})
	if err, took := d.stop(); err != nil {
		t.Fatalf("SIGTERM to the namespace's PID 1: %v after %s", err, took)
	}
}
