package main

// The token out of the workload's reach: not in the daemon's
// /proc/<pid>/environ or cmdline however it was given, requests still
// authenticated, the daemon's memory closed to a root process without
// CAP_SYS_PTRACE.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

const testToken = "tok-5e3cb1f0-the-token"

// withToken makes every plain request of d carry the token.
func withToken(d *daemon, token string) {
	d.client = &http.Client{Timeout: hangGuard, Transport: bearer{token}}
}

// procFile reads /proc/<pid>/<name> of the daemon, as root (the tests'
// user) reads it.
func procFile(t *testing.T, pid int, name string) string {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// wantTokenHidden checks the daemon's environ and cmdline, that it still
// requires the token and accepts it, and that its processes get neither
// the token nor the descriptor's variable.
func wantTokenHidden(t *testing.T, d *daemon) {
	t.Helper()
	for _, name := range []string{"environ", "cmdline"} {
		if content := procFile(t, d.pid, name); strings.Contains(content, testToken) {
			t.Errorf("/proc/%d/%s holds the token: %q", d.pid, name, strings.ReplaceAll(content, "\x00", " "))
		}
	}
	if got := strings.TrimSpace(procFile(t, d.pid, "comm")); got != "sandbox-api" {
		t.Errorf("the daemon is named %q in /proc/<pid>/comm, want sandbox-api", got)
	}
	if resp, _ := d.do(http.MethodGet, "/process", nil); resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("GET /process without the token: %d, want 401", resp.StatusCode)
	}
	withToken(d, testToken)
	p := d.exec(map[string]any{"command": "env; ls -l /proc/$PPID/fd", "waitForCompletion": true})
	if out := p.StdoutText(); strings.Contains(out, testToken) || strings.Contains(out, envToken) || strings.Contains(out, "memfd:") {
		t.Errorf("a process sees the token, its variables or its memory file:\n%s", out)
	}
}

func TestTokenNotInDaemonProcFiles(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte(testToken+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string]daemonOptions{
		"env":        {env: []string{envToken + "=" + testToken}},
		"flag":       {args: []string{"--token", testToken, "-c", "--token"}},
		"flag=":      {args: []string{"--token=" + testToken}},
		"token-file": {args: []string{"--token-file", file}},
		// The file wins; the variable must go all the same.
		"token-file and env": {args: []string{"--token-file", file}, env: []string{envToken + "=" + testToken}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			d := startDaemon(t, opts)
			wantTokenHidden(t, d)
			if name == "flag" {
				// The arguments that were not the token are kept, in order:
				// "--token" was the value of -c.
				if got := procFile(t, d.pid, "cmdline"); !strings.HasSuffix(got, "\x00-c\x00--token\x00") {
					t.Errorf("cmdline %q lost the other arguments", strings.ReplaceAll(got, "\x00", " "))
				}
				if p := d.waitEnded("boot-command"); p.Command != "--token" {
					t.Errorf("boot command %q, want --token", p.Command)
				}
			}
		})
	}
}

// As PID 1 the daemon executes itself again too, and stays PID 1 with its
// duties: named sandbox-api, reaping orphans.
func TestTokenNotInDaemonProcFilesAsPID1(t *testing.T) {
	t.Parallel()
	requireUnshare(t)
	d := startDaemon(t, daemonOptions{pidns: true, env: []string{envToken + "=" + testToken}})
	wantTokenHidden(t, d)
	p := d.exec(map[string]any{"command": "echo $PPID; cat /proc/1/comm; (sleep 0.1 &); exit 0", "waitForCompletion": true})
	if p.StdoutText() != "1\nsandbox-api\n" {
		t.Errorf("inside the namespace: parent pid and PID 1 name %q, want 1 and sandbox-api", p.StdoutText())
	}
	// The orphan's sleep ends, and PID 1 reaps it: no child is left, not
	// even a zombie.
	testsupport.Eventually(t, func() (bool, string) {
		kids := testsupport.ChildrenOf(d.pid)
		for _, kid := range kids {
			if state, _, _, ok := procStat(kid); ok && state == 'Z' {
				return false, "an orphan stays a zombie under PID 1"
			}
		}
		return len(kids) == 0, fmt.Sprintf("children of PID 1 still there: %v", kids)
	})
}

// A signal right after the start, around the re-execution, still ends the
// daemon: it never hangs on.
func TestTokenReexecAndEarlySignal(t *testing.T) {
	t.Parallel()
	for i := range 20 {
		cmd := exec.Command(daemonBin, "-p", "0", "--log-dir", t.TempDir())
		cmd.Env = append(os.Environ(), envToken+"="+testToken)
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Spread the signal over the first moments of the start.
		time.Sleep(time.Duration(i) * 200 * time.Microsecond)
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case <-done:
		case <-time.After(hangGuard):
			_ = cmd.Process.Kill()
			t.Fatalf("start %d: the daemon still runs %s after SIGTERM", i, hangGuard)
		}
	}
}

func TestTokenHandOverRefusesGarbage(t *testing.T) {
	t.Parallel()
	for _, env := range [][]string{
		{envTokenFD + "=x"},
		{envTokenFD + "=1"},
		{envTokenFD + "=99"}, // not open
		{envTokenFD + "=99", envToken + "=" + testToken},
	} {
		// A daemon that took it for a token would serve: the guard ends it.
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		cmd := exec.CommandContext(ctx, daemonBin, "-p", "0", "--log-dir", t.TempDir())
		cmd.Env = append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		cancel()
		if code := cmd.ProcessState.ExitCode(); err == nil || code != 2 || !strings.Contains(string(out), envTokenFD) {
			t.Errorf("%q: exit %d (%v), output %q; want exit 2 naming %s", env, code, err, out, envTokenFD)
		}
	}
}

// In a container without CAP_SYS_PTRACE (Docker's default), a root process
// started by the daemon cannot open the daemon's memory: the daemon is not
// dumpable.
func TestDaemonMemoryClosedWithoutPtraceCapability(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	setpriv, err := exec.LookPath("setpriv")
	if err != nil {
		t.Fatal("setpriv is not installed: run make test, which installs util-linux")
	}
	// The daemon and all it starts lose CAP_SYS_PTRACE, as in Docker.
	d := startDaemon(t, daemonOptions{
		wrap: []string{setpriv, "--bounding-set=-sys_ptrace", "--inh-caps=-sys_ptrace"},
		env:  []string{envToken + "=" + testToken},
	})
	withToken(d, testToken)
	pid := strconv.Itoa(d.pid)
	p := d.exec(map[string]any{
		"command":           "exec 3< /proc/" + pid + "/mem && echo opened",
		"waitForCompletion": true,
	})
	if p.StdoutText() != "" || !strings.Contains(p.StderrText(), "Permission denied") {
		t.Errorf("a root process without CAP_SYS_PTRACE opening the daemon's memory: stdout %q, stderr %q; want permission denied", p.StdoutText(), p.StderrText())
	}
}
