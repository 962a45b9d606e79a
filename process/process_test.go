package process

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

func TestStartEcho(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "echo out; echo err >&2", Name: "echo"})
	info := waitEnded(t, p)
	if info.Status != StatusCompleted || info.ExitCode != 0 {
		t.Fatalf("status %s, exit %d; want completed, 0", info.Status, info.ExitCode)
	}
	if got := logText(t, p.Log(), Stdout); got != "out\n" {
		t.Errorf("stdout = %q", got)
	}
	if got := logText(t, p.Log(), Stderr); got != "err\n" {
		t.Errorf("stderr = %q", got)
	}
	if _, err := strconv.Atoi(info.PID); err != nil || info.PID != p.PID() {
		t.Errorf("PID = %q (p.PID %q), want the OS pid", info.PID, p.PID())
	}
	if info.Name != "echo" || p.Name() != "echo" || info.Command != "echo out; echo err >&2" {
		t.Errorf("record: %+v", info)
	}
	if info.StartedAt.IsZero() || info.CompletedAt.Before(info.StartedAt) {
		t.Errorf("times: started %v, completed %v", info.StartedAt, info.CompletedAt)
	}
	select {
	case <-p.Done():
	default:
		t.Error("Done not closed after the end")
	}
}

func TestRunningRecord(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	info := p.Info()
	// A running process has no exit code yet: 0, as the existing daemon says.
	if info.Status != StatusRunning || info.ExitCode != 0 || !info.CompletedAt.IsZero() {
		t.Fatalf("running record: %+v", info)
	}
	if pid := p.currentPID(); strconv.Itoa(pid) != info.PID || !pidAlive(pid) {
		t.Fatalf("currentPID %d, record pid %s", pid, info.PID)
	}
}

func TestExitStatus(t *testing.T) {
	tests := []struct {
		command string
		status  Status
		code    int
	}{
		{"true", StatusCompleted, 0},
		{"exit 3", StatusFailed, 3},
		{"exit 255", StatusFailed, 255},
		{"false", StatusFailed, 1},
		{"kill -KILL $$", StatusFailed, -1}, // ended by a signal nobody asked for
		{"nonexistent-command-xyz", StatusFailed, 127},
	}
	m := newTestManager(t, nil)
	for _, tc := range tests {
		t.Run(tc.command, func(t *testing.T) {
			info := waitEnded(t, mustStart(t, m, Spec{Command: tc.command}))
			if info.Status != tc.status || info.ExitCode != tc.code {
				t.Fatalf("status %s, exit %d; want %s, %d", info.Status, info.ExitCode, tc.status, tc.code)
			}
		})
	}
}

func TestStartInvalidSpec(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
	}{
		{"no command", Spec{}},
		{"blank command", Spec{Command: " \t\n"}},
		{"empty env name", Spec{Command: "true", Env: map[string]string{"": "x"}}},
		{"env name with =", Spec{Command: "true", Env: map[string]string{"A=B": "x"}}},
		{"env name with NUL", Spec{Command: "true", Env: map[string]string{"A\x00": "x"}}},
	}
	m := newTestManager(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.spec.Name = "invalid"
			if p, err := m.Start(tc.spec); !errors.Is(err, ErrInvalidSpec) {
				t.Fatalf("Start = %v, %v; want ErrInvalidSpec", p, err)
			}
		})
	}
	if n := len(m.List()); n != 0 {
		t.Fatalf("%d records after invalid starts", n)
	}
	// The name was never taken.
	waitEnded(t, mustStart(t, m, Spec{Command: "true", Name: "invalid"}))
}

func TestStartWorkingDirErrors(t *testing.T) {
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		dir, want string
	}{
		// Clients match on the existing daemon's words for a missing folder.
		{filepath.Join(base, "missing"), "failed to start process: could not execute command 'true' because folder '" + filepath.Join(base, "missing") + "' does not exist"},
		{"missing-relative", "failed to start process: could not execute command 'true' because folder '" + filepath.Join(base, "missing-relative") + "' does not exist"},
		{file, "failed to start process: working directory " + file + " is not a directory"},
	}
	m := newTestManager(t, func(c *Config) { c.WorkingDir = base })
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			_, err := m.Start(Spec{Command: "true", Name: "wd", WorkingDir: tc.dir})
			if !errors.Is(err, ErrStart) {
				t.Fatalf("Start = %v, want ErrStart", err)
			}
			if err.Error() != tc.want {
				t.Fatalf("error %q, want %q", err, tc.want)
			}
		})
	}
	if n := len(m.List()); n != 0 {
		t.Fatalf("%d records after failed starts", n)
	}
	files, _ := os.ReadDir(m.cfg.LogDir)
	for _, f := range files {
		if f.Name() != journalFileName {
			t.Fatalf("log files left by failed starts: %v", files)
		}
	}
	waitEnded(t, mustStart(t, m, Spec{Command: "true", Name: "wd"}))
}

func TestWorkingDirResolution(t *testing.T) {
	base := t.TempDir()
	abs := t.TempDir()
	if err := os.Mkdir(filepath.Join(base, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ dir, want string }{
		{"", base},
		{"sub", filepath.Join(base, "sub")},
		{"./sub/", filepath.Join(base, "sub")},
		{abs, abs},
	}
	m := newTestManager(t, func(c *Config) { c.WorkingDir = base })
	for _, tc := range tests {
		t.Run(tc.dir, func(t *testing.T) {
			p := mustStart(t, m, Spec{Command: "pwd", WorkingDir: tc.dir})
			info := waitEnded(t, p)
			if got := strings.TrimSpace(logText(t, p.Log(), Stdout)); got != tc.want || info.WorkingDir != tc.want {
				t.Fatalf("pwd = %q, record %q; want %q", got, info.WorkingDir, tc.want)
			}
			if info.RequestedDir != tc.dir {
				t.Fatalf("requested dir %q, want %q as given", info.RequestedDir, tc.dir)
			}
		})
	}
}

func TestEnv(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.Env = []string{"PATH=" + os.Getenv("PATH"), "FOO=base", "KEEP=kept"} })
	p := mustStart(t, m, Spec{
		Command: `printf '%s|%s|%s|%s' "$FOO" "$KEEP" "$NEW" "$SPACED"`,
		Env:     map[string]string{"FOO": "over", "NEW": "new", "SPACED": "a b=c"},
	})
	waitEnded(t, p)
	if got := logText(t, p.Log(), Stdout); got != "over|kept|new|a b=c" {
		t.Fatalf("env seen by the process: %q", got)
	}
	// The daemon's environment by default.
	t.Setenv("SANDBOX_TEST_VAR", "from-daemon")
	m2 := newTestManager(t, nil)
	p = mustStart(t, m2, Spec{Command: `printf %s "$SANDBOX_TEST_VAR"`})
	waitEnded(t, p)
	if got := logText(t, p.Log(), Stdout); got != "from-daemon" {
		t.Fatalf("daemon env var = %q", got)
	}
}

// TestEnvConcurrentStarts: each process gets its own variables even when
// the configured environment has spare capacity and starts run at once.
func TestEnvConcurrentStarts(t *testing.T) {
	env := make([]string, 0, 64)
	env = append(env, "PATH="+os.Getenv("PATH"))
	m := newTestManager(t, func(c *Config) { c.Env = env })
	const n = 16
	procs := make([]*Process, n)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			p, err := m.Start(Spec{
				Command: `printf '%s %s' "$MINE" "$(env | grep -c '^V[0-9]*=')"`,
				Env:     map[string]string{"MINE": strconv.Itoa(i), "V" + strconv.Itoa(i): "x"},
			})
			procs[i] = p
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, p := range procs {
		waitEnded(t, p)
		if got, want := logText(t, p.Log(), Stdout), strconv.Itoa(i)+" 1"; got != want {
			t.Errorf("process %d saw %q, want %q (its own variables only)", i, got, want)
		}
	}
}

func TestDefaultShell(t *testing.T) {
	tests := []struct{ shell, want string }{
		{"", "/bin/sh"},
		{"/nonexistent/shell", "/bin/sh"},
		{"/bin/bash", "/bin/bash"},
	}
	if _, err := os.Stat("/bin/bash"); err != nil {
		tests = tests[:2]
	}
	for _, tc := range tests {
		t.Run(tc.shell, func(t *testing.T) {
			t.Setenv("SHELL", tc.shell)
			if got := DefaultShell(); got != tc.want {
				t.Fatalf("DefaultShell() = %q, want %q", got, tc.want)
			}
			m := newTestManager(t, func(c *Config) { c.Shell = "" })
			p := mustStart(t, m, Spec{Command: `printf %s "$0"`})
			waitEnded(t, p)
			if got := logText(t, p.Log(), Stdout); got != tc.want {
				t.Fatalf("the manager ran %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("unset", func(t *testing.T) {
		t.Setenv("SHELL", "")
		os.Unsetenv("SHELL")
		if got := DefaultShell(); got != "/bin/sh" {
			t.Fatalf("DefaultShell() without $SHELL = %q", got)
		}
	})
}

func TestRestartOnFailure(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: `echo "attempt $$"; echo "err $$" >&2; exit 1`, RestartOnFailure: true, MaxRestarts: 2})
	firstPID := p.PID()
	info := waitEnded(t, p)
	if info.Status != StatusFailed || info.ExitCode != 1 || info.RestartCount != 2 {
		t.Fatalf("status %s, exit %d, restarts %d; want failed, 1, 2", info.Status, info.ExitCode, info.RestartCount)
	}
	if info.PID != firstPID || !info.RestartOnFailure || info.MaxRestarts != 2 {
		t.Fatalf("record after restarts: %+v (first pid %s)", info, firstPID)
	}
	lines := strings.Split(strings.TrimSuffix(logText(t, p.Log(), Stdout), "\n"), "\n")
	if len(lines) != 5 || lines[1] != "Attempting restart 1/2" || lines[3] != "Attempting restart 2/2" {
		t.Fatalf("stdout = %q", lines)
	}
	pids := map[string]bool{}
	for i, want := range []int{0, 2, 4} {
		pid, ok := strings.CutPrefix(lines[want], "attempt ")
		if !ok {
			t.Fatalf("line %d = %q, want an attempt's output", want, lines[want])
		}
		if i == 0 && pid != firstPID {
			t.Fatalf("first attempt pid %s, record pid %s", pid, firstPID)
		}
		pids[pid] = true
	}
	if len(pids) != 3 {
		t.Fatalf("attempt pids %v: want three distinct attempts", pids)
	}
	if got := strings.Count(logText(t, p.Log(), Stderr), "err "); got != 3 {
		t.Fatalf("stderr has %d attempts' output, want 3", got)
	}
	// Found under its first pid.
	if got, err := m.Get(firstPID); err != nil || got != p {
		t.Fatalf("Get(%s) = %v, %v", firstPID, got, err)
	}
}

func TestNoRestart(t *testing.T) {
	tests := []struct {
		name string
		spec Spec
		want Status
	}{
		{"success", Spec{Command: "exit 0", RestartOnFailure: true, MaxRestarts: 3}, StatusCompleted},
		{"restart not asked", Spec{Command: "exit 1", MaxRestarts: 3}, StatusFailed},
		{"zero restarts", Spec{Command: "exit 1", RestartOnFailure: true, MaxRestarts: 0}, StatusFailed},
	}
	m := newTestManager(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustStart(t, m, tc.spec)
			info := waitEnded(t, p)
			if info.Status != tc.want || info.RestartCount != 0 {
				t.Fatalf("status %s, restarts %d; want %s, 0", info.Status, info.RestartCount, tc.want)
			}
			if strings.Contains(logText(t, p.Log(), Both), "Attempting restart") {
				t.Fatal("restart notice without a restart")
			}
		})
	}
}

func TestRestartUnlimitedStoppedDuringDelay(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.RestartDelay = 20 * time.Millisecond })
	p := mustStart(t, m, Spec{Command: "exit 1", RestartOnFailure: true, MaxRestarts: -1})
	eventually(t, "three restarts", func() bool { return p.Info().RestartCount >= 3 })
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	info := p.Info()
	if info.Status != StatusStopped || info.ExitCode != -1 {
		t.Fatalf("status %s, exit %d; want stopped, -1", info.Status, info.ExitCode)
	}
	if !strings.Contains(logText(t, p.Log(), Stdout), fmt.Sprintf("Attempting restart %d/unlimited", info.RestartCount)) {
		t.Fatalf("log lacks the unlimited restart notices: %q", logText(t, p.Log(), Stdout))
	}
	count := info.RestartCount
	// No attempt starts after the stop.
	if got := p.Info().RestartCount; got != count {
		t.Fatalf("restart count moved from %d to %d after Stop", count, got)
	}
}

func TestStopInterruptsLongRestartDelay(t *testing.T) {
	// With an hour of restart delay and a long stop grace, only the wake-up
	// of the pending restart can end the process within the hang guard.
	m := newTestManager(t, func(c *Config) { c.RestartDelay = time.Hour; c.StopGrace = time.Hour })
	p := mustStart(t, m, Spec{Command: "echo once; exit 1", RestartOnFailure: true, MaxRestarts: -1})
	eventually(t, "the first attempt's output", func() bool { return logText(t, p.Log(), Stdout) == "once\n" })
	eventually(t, "the first attempt to exit", func() bool { return p.currentPID() == 0 })
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop during the restart delay: %v", err)
	}
	if info := p.Info(); info.Status != StatusStopped || info.RestartCount != 0 {
		t.Fatalf("status %s, restarts %d; want stopped, 0", info.Status, info.RestartCount)
	}
}

func TestRestartThatCannotStart(t *testing.T) {
	base := t.TempDir()
	dir := filepath.Join(base, "gone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	m := newTestManager(t, nil)
	// The first attempt removes its own working directory, so the restart
	// cannot start.
	p := mustStart(t, m, Spec{Command: `cd / && rmdir "` + dir + `" && exit 4`, WorkingDir: dir, RestartOnFailure: true, MaxRestarts: 5})
	info := waitEnded(t, p)
	if info.Status != StatusFailed || info.ExitCode != 4 {
		t.Fatalf("status %s, exit %d; want failed, 4", info.Status, info.ExitCode)
	}
	if stderr := logText(t, p.Log(), Stderr); !strings.Contains(stderr, "restart failed") {
		t.Fatalf("stderr = %q, want the restart failure", stderr)
	}
}

func TestStopKillsProcessGroup(t *testing.T) {
	m := newTestManager(t, nil)
	pidfile := filepath.Join(t.TempDir(), "bg.pid")
	p := mustStart(t, m, Spec{
		Command: `sleep 100 & echo $! > "$PIDFILE"; sleep 100`,
		Env:     map[string]string{"PIDFILE": pidfile},
	})
	bg := readPIDFile(t, pidfile)
	leader, _ := strconv.Atoi(p.PID())
	if !pidAlive(bg) || !pidAlive(leader) {
		t.Fatal("setup: processes not running")
	}
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if info := p.Info(); info.Status != StatusStopped || info.ExitCode != -1 {
		t.Fatalf("status %s, exit %d; want stopped, -1", info.Status, info.ExitCode)
	}
	waitSignaledBy(t, p, syscall.SIGTERM)
	eventually(t, "the background child to die", func() bool { return !pidAlive(bg) })
	// Stopping again is harmless.
	if err := p.Stop(testCtx(t)); err != nil || p.Info().Status != StatusStopped {
		t.Fatalf("second Stop: %v, %s", err, p.Info().Status)
	}
}

func TestStopEscalatesToSIGKILL(t *testing.T) {
	m := newTestManager(t, func(c *Config) { c.StopGrace = 200 * time.Millisecond })
	p := mustStart(t, m, Spec{Command: `trap '' TERM; echo ready; sleep 100`})
	eventually(t, "the TERM trap", func() bool { return logText(t, p.Log(), Stdout) == "ready\n" })
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop: %v", err)
	}
	if info := p.Info(); info.Status != StatusStopped || info.ExitCode != -1 {
		t.Fatalf("status %s, exit %d; want stopped, -1", info.Status, info.ExitCode)
	}
	waitSignaledBy(t, p, syscall.SIGKILL)
}

func TestKill(t *testing.T) {
	tests := []struct {
		name string
		sig  syscall.Signal
		want syscall.Signal
	}{
		{"default", 0, syscall.SIGKILL},
		{"SIGKILL", syscall.SIGKILL, syscall.SIGKILL},
		{"SIGINT", syscall.SIGINT, syscall.SIGINT},
		{"SIGTERM", syscall.SIGTERM, syscall.SIGTERM},
	}
	m := newTestManager(t, nil)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.sig != 0 && tc.sig != syscall.SIGKILL && signalIgnoredHere(t, tc.sig) {
				t.Skipf("%v is ignored by the test process and so by its children", tc.sig)
			}
			p := mustStart(t, m, Spec{Command: "exec sleep 100"})
			if err := p.Kill(testCtx(t), tc.sig); err != nil {
				t.Fatalf("Kill: %v", err)
			}
			if info := p.Info(); info.Status != StatusKilled || info.ExitCode != -1 {
				t.Fatalf("status %s, exit %d; want killed, -1", info.Status, info.ExitCode)
			}
			waitSignaledBy(t, p, tc.want)
		})
	}
}

// signalIgnoredHere reads SigIgn of the test process: an ignored signal is
// inherited as ignored, and a shell cannot undo that.
func signalIgnoredHere(t *testing.T, sig syscall.Signal) bool {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if hex, ok := strings.CutPrefix(line, "SigIgn:"); ok {
			mask, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			return err == nil && mask&(1<<(uint(sig)-1)) != 0
		}
	}
	return false
}

func TestKillSurvivableSignal(t *testing.T) {
	// A signal the process handles: Kill waits out the grace and says so;
	// the process keeps running.
	m := newTestManager(t, func(c *Config) { c.StopGrace = 100 * time.Millisecond })
	p := mustStart(t, m, Spec{Command: `trap 'echo got usr1' USR1; echo ready; while :; do sleep 0.05; done`})
	eventually(t, "the USR1 trap", func() bool { return logText(t, p.Log(), Stdout) == "ready\n" })
	if err := p.Kill(testCtx(t), syscall.SIGUSR1); !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("Kill(USR1) = %v, want ErrWaitTimeout", err)
	}
	eventually(t, "the trap to run", func() bool { return strings.Contains(logText(t, p.Log(), Stdout), "got usr1") })
	if p.Info().Status != StatusRunning {
		t.Fatalf("status %s after a handled signal", p.Info().Status)
	}
	// Kill waits only the (short) grace; the end itself is waited for
	// separately, so that a loaded machine does not fail the test.
	if err := p.Kill(testCtx(t), 0); err != nil && !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("Kill: %v", err)
	}
	if info := waitEnded(t, p); info.Status != StatusKilled {
		t.Fatalf("status %s after SIGKILL", info.Status)
	}
}

func TestKillSurvivedSignalDoesNotBrandTheEnd(t *testing.T) {
	// A handled signal leaves the process running; when it later exits on
	// its own, its status says how it ended, not "killed".
	m := newTestManager(t, func(c *Config) { c.StopGrace = 100 * time.Millisecond })
	release := filepath.Join(t.TempDir(), "release")
	p := mustStart(t, m, Spec{Command: `trap 'echo got usr1' USR1; echo ready; while [ ! -e ` + release + ` ]; do sleep 0.05; done; exit 4`})
	eventually(t, "the USR1 trap", func() bool { return logText(t, p.Log(), Stdout) == "ready\n" })
	if err := p.Kill(testCtx(t), syscall.SIGUSR1); !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("Kill(USR1) = %v, want ErrWaitTimeout", err)
	}
	if err := os.WriteFile(release, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if info := waitEnded(t, p); info.Status != StatusFailed || info.ExitCode != 4 {
		t.Fatalf("ended %s/%d, want failed/4 (its own exit)", info.Status, info.ExitCode)
	}
}

func TestStopAndKillAfterEnd(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exit 2"})
	waitEnded(t, p)
	if err := p.Kill(testCtx(t), 0); err != nil {
		t.Fatalf("Kill after the end: %v", err)
	}
	if err := p.Stop(testCtx(t)); err != nil {
		t.Fatalf("Stop after the end: %v", err)
	}
	if info := p.Info(); info.Status != StatusFailed || info.ExitCode != 2 {
		t.Fatalf("status %s, exit %d; an ended record must not change", info.Status, info.ExitCode)
	}
}

func TestKeepAliveTimeout(t *testing.T) {
	d := func(v time.Duration) *time.Duration { return &v }
	tests := []struct {
		name      string
		spec      Spec
		status    Status
		wantTimer bool
	}{
		{"keepAlive with timeout", Spec{Command: "sleep 100", KeepAlive: true, Timeout: d(100 * time.Millisecond)}, StatusKilled, true},
		{"keepAlive with default timeout", Spec{Command: "sleep 100", KeepAlive: true}, StatusKilled, true},
		{"timeout without keepAlive", Spec{Command: "sleep 0.3; echo done", Timeout: d(time.Millisecond)}, StatusCompleted, false},
		{"keepAlive with timeout 0", Spec{Command: "sleep 0.3; echo done", KeepAlive: true, Timeout: d(0)}, StatusCompleted, false},
	}
	m := newTestManager(t, func(c *Config) { c.KeepAliveTimeout = 100 * time.Millisecond })
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := mustStart(t, m, tc.spec)
			p.mu.Lock()
			hasTimer := p.lifetime != nil
			p.mu.Unlock()
			if hasTimer != tc.wantTimer {
				t.Fatalf("lifetime timer set: %v, want %v", hasTimer, tc.wantTimer)
			}
			info := waitEnded(t, p)
			if info.Status != tc.status || info.KeepAlive != tc.spec.KeepAlive {
				t.Fatalf("status %s, keepAlive %v; want %s", info.Status, info.KeepAlive, tc.status)
			}
			stderr := logText(t, p.Log(), Stderr)
			if killed := strings.Contains(stderr, "keepAlive timeout"); killed != (tc.status == StatusKilled) {
				t.Fatalf("stderr = %q", stderr)
			}
			if tc.status == StatusCompleted && logText(t, p.Log(), Stdout) != "done\n" {
				t.Fatalf("stdout = %q", logText(t, p.Log(), Stdout))
			}
		})
	}
}

func TestWaitTimeout(t *testing.T) {
	m := newTestManager(t, nil)
	p := mustStart(t, m, Spec{Command: "exec sleep 100"})
	if err := p.Wait(testCtx(t), 50*time.Millisecond); !errors.Is(err, ErrWaitTimeout) {
		t.Fatalf("Wait = %v, want ErrWaitTimeout", err)
	}
	if info := p.Info(); info.Status != StatusRunning || !pidAlive(p.currentPID()) {
		t.Fatalf("the process did not keep running after the wait gave up: %s", info.Status)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := p.Wait(ctx, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait with a cancelled context = %v", err)
	}
	if p.Info().Status != StatusRunning {
		t.Fatal("a cancelled wait ended the process")
	}
}

// TestBackgroundChildDoesNotHoldRecord: a background child that keeps the
// output pipes open does not keep the record running, and what it writes
// later still lands in the log.
func TestBackgroundChildDoesNotHoldRecord(t *testing.T) {
	m := newTestManager(t, nil)
	fifo := mkfifo(t)
	pidfile := filepath.Join(t.TempDir(), "bg.pid")
	p := mustStart(t, m, Spec{
		Command: `(read x < "$FIFO"; echo late; echo late-err >&2) & echo $! > "$PIDFILE"; echo early`,
		Env:     map[string]string{"FIFO": fifo, "PIDFILE": pidfile},
	})
	killGroupOnCleanup(t, p)
	info := waitEnded(t, p)
	if info.Status != StatusCompleted || info.ExitCode != 0 {
		t.Fatalf("status %s, exit %d; want completed, 0", info.Status, info.ExitCode)
	}
	// The record ended while the child, blocked on the fifo, still runs.
	bg := readPIDFile(t, pidfile)
	if !pidAlive(bg) {
		t.Fatal("setup: the background child is not running")
	}
	writeFIFO(t, fifo, "go\n")
	eventually(t, "the late output", func() bool {
		return logText(t, p.Log(), Stdout) == "early\nlate\n" && logText(t, p.Log(), Stderr) == "late-err\n"
	})
}

// TestRestartsWithOrphansHoldingPipes: each attempt leaves a child holding
// its pipes past the drain grace; attempts and their children's output all
// land in the log.
func TestRestartsWithOrphansHoldingPipes(t *testing.T) {
	m := newTestManager(t, func(c *Config) {
		c.RestartDelay = 5 * time.Millisecond
		c.OutputDrainGrace = 5 * time.Millisecond
	})
	p := mustStart(t, m, Spec{Command: `(sleep 0.2; echo late) & echo attempt; exit 1`, RestartOnFailure: true, MaxRestarts: 5})
	info := waitEnded(t, p)
	if info.Status != StatusFailed || info.RestartCount != 5 {
		t.Fatalf("status %s, restarts %d; want failed, 5", info.Status, info.RestartCount)
	}
	eventually(t, "every child's output", func() bool {
		out := logText(t, p.Log(), Stdout)
		return strings.Count(out, "late\n") == 6 && strings.Count(out, "attempt\n") == 6
	})
}

// TestLargeOutputBoundedMemory streams 50 MB through the log: every byte
// arrives, and the heap does not grow with the volume.
func TestLargeOutputBoundedMemory(t *testing.T) {
	const total = 50_000_000
	m := newTestManager(t, nil)
	heapInuse := func() int64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return int64(ms.HeapInuse)
	}
	before := heapInuse()
	p := mustStart(t, m, Spec{Command: "head -c 50000000 /dev/zero"})
	r := p.Log().NewReader()
	defer r.Close()
	ctx := testCtx(t)
	var n, peak int64
	sampled := false
	for {
		c, err := r.Next(ctx, true, 0)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("Next after %d bytes: %v", n, err)
		}
		if c.Dropped > 0 {
			t.Fatalf("%d bytes dropped under the default cap", c.Dropped)
		}
		if bytes.Count(c.Data, []byte{0}) != len(c.Data) {
			t.Fatalf("non-zero bytes after %d bytes", n)
		}
		n += int64(len(c.Data))
		if !sampled && n > total/2 {
			sampled = true
			peak = heapInuse() - before
		}
	}
	after := heapInuse() - before
	if n != total {
		t.Fatalf("read %d bytes, want %d", n, total)
	}
	if info := waitEnded(t, p); info.Status != StatusCompleted {
		t.Fatalf("status %s", info.Status)
	}
	const limit = 4 << 20
	t.Logf("heap growth: %d bytes halfway, %d at the end", peak, after)
	if peak > limit || after > limit {
		t.Fatalf("heap grew by %d bytes halfway and %d at the end, want under %d", peak, after, limit)
	}
	if tail, truncated, err := p.Log().Tail(Both, 1000); err != nil || len(tail) != 1000 || !truncated {
		t.Fatalf("Tail: %d bytes, %v, %v", len(tail), truncated, err)
	}
	runtime.KeepAlive(m)
}

// TestKillDuringRestart: a kill that arrives while a restart is starting
// the next attempt ends that attempt too. The attempts fail at once until
// the stop file exists, then would run for longer than the hang guard that
// Kill waits under, so a missed kill shows.
func TestKillDuringRestart(t *testing.T) {
	m := newTestManager(t, func(c *Config) {
		c.RestartDelay = time.Nanosecond
		c.StopGrace = hangGuard
		c.OutputDrainGrace = time.Millisecond
	})
	dir := t.TempDir()
	for i := 0; i < 30; i++ {
		stopFile := filepath.Join(dir, strconv.Itoa(i))
		p := mustStart(t, m, Spec{
			Command:          `[ -e "$STOP" ] && exec sleep 1000; exit 1`,
			Env:              map[string]string{"STOP": stopFile},
			RestartOnFailure: true,
			MaxRestarts:      -1,
		})
		eventually(t, "restarts", func() bool { return p.Info().RestartCount >= 2 })
		if err := os.WriteFile(stopFile, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := p.Kill(testCtx(t), 0); err != nil {
			t.Fatalf("trial %d: Kill = %v; status %s, restarts %d", i, err, p.Info().Status, p.Info().RestartCount)
		}
		if info := p.Info(); info.Status != StatusKilled {
			t.Fatalf("trial %d: status %s", i, info.Status)
		}
	}
}

func TestTimeoutSeconds(t *testing.T) {
	tests := []struct {
		in   int
		want time.Duration
		ok   bool
	}{
		{0, 0, true},
		{90, 90 * time.Second, true},
		{-1, 0, false},
		{9223372036, 9223372036 * time.Second, true}, // the largest that fits
		{9223372037, 0, false},
		{int(^uint(0) >> 1), 0, false},
	}
	for _, tt := range tests {
		got, err := TimeoutSeconds(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("TimeoutSeconds(%d) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, ErrInvalidSpec) {
			t.Errorf("TimeoutSeconds(%d): %v is not ErrInvalidSpec", tt.in, err)
		}
	}
}
