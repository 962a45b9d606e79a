package entrypoint

// The daemon's lifecycle under the entrypoint: readiness limit, a daemon
// that dies at once, signals forwarded, and the exit status passed on.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestReadyTimeout(t *testing.T) {
	forEachShell(t, func(t *testing.T, sh []string) {
		// A "daemon" that never listens; it records its pid to be checked.
		pidFile := filepath.Join(t.TempDir(), "pid")
		fake := writeScript(t, "never-ready", "#!/bin/sh\necho $$ > \"$FAKE_PID\"\nexec sleep 60\n")
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
			"SANDBOX_API_BIN":       fake,
			"SANDBOX_READY_TIMEOUT": "1",
			"FAKE_PID":              pidFile,
		}})
		began := time.Now()
		if code := r.waitExit(); code != 1 {
			t.Errorf("exit status %d, want 1", code)
		}
		if took := time.Since(began); took < time.Second {
			t.Errorf("gave up after %s, before the 1s limit", took)
		}
		want := "entrypoint: error: sandbox-api did not answer " + r.url + "/health within 1s (SANDBOX_READY_TIMEOUT); stopping it\n"
		if !strings.Contains(r.stderr.String(), want) {
			t.Errorf("output lacks %q", want)
		}
		data, err := os.ReadFile(pidFile)
		if err != nil {
			t.Fatal(err)
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(data)))
		if err != nil {
			t.Fatal(err)
		}
		if !gone(pid) {
			t.Errorf("the daemon (pid %d) was not stopped", pid)
		}
	})
}

func TestDaemonThatExitsAtOnceGivesItsStatus(t *testing.T) {
	// The daemon's own status for a bad flag, to compare with.
	err := exec.Command(daemonBin, "--no-such-flag").Run()
	ee, ok := err.(*exec.ExitError)
	if !ok {
		t.Fatalf("sandbox-api --no-such-flag: %v, want a failure", err)
	}
	want := ee.ExitCode()
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
			"SANDBOX_API_ARGS": "--no-such-flag",
		}})
		if code := r.waitExit(); code != want {
			t.Errorf("exit status %d, want the daemon's %d", code, want)
		}
		msg := "entrypoint: error: sandbox-api exited with status " + strconv.Itoa(want) + " before answering " + r.url + "/health\n"
		if !strings.Contains(r.stderr.String(), msg) {
			t.Errorf("output lacks %q", msg)
		}
	})
}

func TestSignalsStopEverything(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT} {
		t.Run(sig.String(), func(t *testing.T) {
			forEachShell(t, func(t *testing.T, sh []string) {
				r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
					"SANDBOX_STARTUP": "svc: sleep 300",
				}})
				r.waitStderr("entrypoint: started svc: sleep 300\n")
				var svc proc
				r.getJSON("/process/svc", &svc)
				pid, err := strconv.Atoi(svc.PID)
				if err != nil || svc.Status != "running" {
					t.Fatalf("svc: %+v", svc)
				}

				began := time.Now()
				if err := r.cmd.Process.Signal(sig); err != nil {
					t.Fatal(err)
				}
				// The daemon ends the process group with SIGTERM, which sleep
				// obeys: no grace period to wait for.
				if code := r.waitExit(); code != 0 {
					t.Errorf("exit status %d, want the daemon's 0", code)
				}
				t.Logf("exited %s after %s", sig, time.Since(began).Round(time.Millisecond))
				if !gone(pid) {
					t.Errorf("svc (pid %d) still exists after the entrypoint exited", pid)
				}
				if !strings.Contains(r.stderr.String(), "shutting down on signal") {
					t.Errorf("the daemon did not log its shutdown on the signal")
				}
			})
		})
	}
}

func TestExitStatusIsTheDaemons(t *testing.T) {
	// A wrapper that runs the real daemon, passes SIGTERM on, and exits 7
	// once the daemon is gone: the entrypoint must exit 7 too.
	wrapper := writeScript(t, "wrapper", "#!/bin/sh\n"+
		"trap 'kill -TERM $p' TERM\n"+
		"\"$REAL_DAEMON\" \"$@\" & p=$!\n"+
		"wait $p\nwait $p\nexit 7\n")
	forEachShell(t, func(t *testing.T, sh []string) {
		r := start(t, options{shell: sh, path: curlPath(t), env: map[string]string{
			"SANDBOX_API_BIN": wrapper,
			"REAL_DAEMON":     daemonBin,
		}})
		r.waitStderr("sandbox-api is ready")
		if err := r.cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := r.waitExit(); code != 7 {
			t.Errorf("exit status %d, want 7", code)
		}
	})
}
