package entrypoint

// A daemon that dies on its own is started again, within a bound; a stop
// asked for is not a death.

import (
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// daemonPID is the pid of the entrypoint's daemon child (the one running
// bin), waiting for it to exist; not is a pid it must not be (an earlier
// daemon that is gone).
func (r *run) daemonPID(bin string, not int) int {
	r.t.Helper()
	pid := 0
	r.waitFor("a daemon child of the entrypoint", func() bool {
		for _, c := range testsupport.ChildrenOf(r.cmd.Process.Pid) {
			argv, err := os.ReadFile("/proc/" + strconv.Itoa(c) + "/cmdline")
			if err == nil && c != not && strings.HasPrefix(string(argv), bin+"\x00") {
				pid = c
				return true
			}
		}
		return false
	})
	return pid
}

// healthy tells whether the daemon answers /health now.
func (r *run) healthy() bool {
	resp, err := r.get("/health")
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == http.StatusOK
}

func TestDaemonThatDiesIsRestarted(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
			"SANDBOX_API_TOKEN": "restart-token",
			"SANDBOX_STARTUP":   "svc: printf 'before the crash'; exec sleep 300",
		}})
		r.waitStderr("entrypoint: started svc: ")
		var svc proc
		r.waitFor("svc's output", func() bool {
			r.getJSON("/process/svc", &svc)
			return svc.StdoutText() == "before the crash"
		})
		if pgid, err := strconv.Atoi(svc.PID); err == nil {
			// Orphaned by the crash: no daemon stops it any more.
			t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
		}
		first := r.daemonPID(daemonBin, 0)
		if err := syscall.Kill(first, syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		r.waitStderr("entrypoint: sandbox-api exited with status 137 on its own; restarting it in 0s (restart 1 of at most 5 within 60s)\n")
		second := r.daemonPID(daemonBin, first)
		r.waitFor("the new daemon to answer /health", r.healthy)

		// The token was handed over again (getJSON sends it), and the new
		// daemon lists the earlier process with its output.
		r.getJSON("/process/svc", &svc)
		want := "before the crash\n[sandbox-api: the daemon restarted; this process is no longer supervised (pid " + svc.PID + " still runs; its output is no longer kept)]\n"
		if svc.Status != "failed" || svc.StdoutText() != want {
			t.Errorf("svc after the restart: %+v; want failed with stdout %q", svc, want)
		}
		if n := strings.Count(r.stderr.String(), "entrypoint: started svc"); n != 1 {
			t.Errorf("the startup command was started %d times, want once", n)
		}

		// A stop asked for is no death: no restart, the daemon's status.
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := r.waitExit(); code != 0 {
			t.Errorf("exit status %d after SIGTERM, want 0", code)
		}
		if n := strings.Count(r.stderr.String(), "restarting it"); n != 1 {
			t.Errorf("%d restarts, want only the one after the crash", n)
		}
		if !gone(second) {
			t.Errorf("the new daemon (pid %d) outlived the entrypoint", second)
		}
	})
}

func TestDaemonThatKeepsDyingIsGivenUpOn(t *testing.T) {
	// The real daemon the first time; then a daemon that exits 3 at once.
	wrapper := writeScript(t, "flaky", "#!/bin/sh\n"+
		"if [ ! -e \"$RUNS\" ]; then : > \"$RUNS\"; exec \"$REAL_DAEMON\" \"$@\"; fi\n"+
		"echo run >> \"$RUNS\"\nexit 3\n")
	forEachShell(t, func(t *testing.T, sh []string) {
		runs := t.TempDir() + "/runs"
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
			"SANDBOX_API_BIN":     wrapper,
			"REAL_DAEMON":         daemonBin,
			"RUNS":                runs,
			"SANDBOX_RESTART_MAX": "2",
		}})
		r.waitStderr("sandbox-api is ready")
		if err := syscall.Kill(r.daemonPID(daemonBin, 0), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := r.waitExit(); code != 3 {
			t.Errorf("exit status %d, want the last daemon's 3", code)
		}
		out := r.stderr.String()
		for _, want := range []string{
			"entrypoint: sandbox-api exited with status 137 on its own; restarting it in 0s (restart 1 of at most 2 within 60s)\n",
			"entrypoint: sandbox-api exited with status 3 on its own; restarting it in 1s (restart 2 of at most 2 within 60s)\n",
			"entrypoint: error: sandbox-api exited with status 3 on its own, after 2 restarts within 60s (SANDBOX_RESTART_MAX=2); giving up\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		if data, _ := os.ReadFile(runs); strings.Count(string(data), "run\n") != 2 {
			t.Errorf("the failing daemon ran %d times, want 2", strings.Count(string(data), "run\n"))
		}
	})
}

func TestNoRestartWhenDisabled(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{"SANDBOX_RESTART_MAX": "0"}})
		r.waitStderr("sandbox-api is ready")
		if err := syscall.Kill(r.daemonPID(daemonBin, 0), syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		if code := r.waitExit(); code != 137 {
			t.Errorf("exit status %d, want the killed daemon's 137", code)
		}
		if want := "after 0 restarts within 60s (SANDBOX_RESTART_MAX=0); giving up\n"; !strings.Contains(r.stderr.String(), want) {
			t.Errorf("output lacks %q", want)
		}
	})
}
