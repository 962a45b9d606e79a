package main

// Black-box tests of a restart after a crash: a daemon killed with SIGKILL,
// a new one on the same log folder, and a second daemon that must not share
// a folder.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// The last line of the log of a process the dead daemon was running.
const (
	unsupervisedLine = "[sandbox-api: the daemon restarted; this process is no longer supervised]"
	stillRunsLine    = "[sandbox-api: the daemon restarted; this process is no longer supervised (pid %s still runs; its output is no longer kept)]"
)

// crash kills the daemon with SIGKILL: nothing of it runs after, its
// processes are orphaned.
func (d *daemon) crash() {
	d.t.Helper()
	if err, _ := d.stopWith(syscall.SIGKILL); err == nil {
		d.t.Fatal("the daemon exited cleanly on SIGKILL?")
	}
}

// killGroupAtEnd kills the process group of a managed process when the test
// ends: orphaned by a crash, no daemon stops it.
func killGroupAtEnd(t *testing.T, pid string) {
	pgid, err := strconv.Atoi(pid)
	if err != nil || pgid <= 1 {
		t.Fatalf("pid %q", pid)
	}
	t.Cleanup(func() { _ = syscall.Kill(-pgid, syscall.SIGKILL) })
}

func TestRestartAfterCrashKeepsEarlierRun(t *testing.T) {
	t.Parallel()
	first := startDaemon(t, daemonOptions{})
	ended := first.exec(map[string]any{"name": "ended", "command": "echo out; echo err >&2; exit 4", "waitForCompletion": true})
	srv := first.exec(map[string]any{"name": "srv", "command": "printf 'no newline yet'; exec sleep 1000", "workingDir": "/tmp"})
	killGroupAtEnd(t, srv.PID)
	silent := first.exec(map[string]any{"name": "silent", "command": "exec sleep 1000", "env": map[string]string{"API_KEY": "s3cr3t-in-env"}})
	killGroupAtEnd(t, silent.PID)
	first.waitOutput("srv", "no newline yet")
	var before []proc
	first.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &before)
	first.crash()

	second := startDaemon(t, daemonOptions{args: []string{"--log-dir", first.logDir}})
	var after []proc
	second.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &after)
	if len(after) != 3 {
		t.Fatalf("after the restart %d records, want the 3 of the earlier run: %v", len(after), after)
	}
	for i, p := range after {
		was := before[i]
		if p.PID != was.PID || p.Name != was.Name || p.Command != was.Command || p.WorkingDir != was.WorkingDir || p.StartedAt != was.StartedAt {
			t.Errorf("record %d came back as %v, was %v", i, p, was)
		}
		if p.Status != "failed" || p.CompletedAt == "" {
			t.Errorf("%s: status %q, completedAt %q; want failed, set", p.Name, p.Status, p.CompletedAt)
		}
	}
	wantLogs := map[string]struct{ stdout, stderr string }{
		"ended":  {"out\n" + unsupervisedLine + "\n", "err\n"},
		"srv":    {"no newline yet\n" + fmt.Sprintf(stillRunsLine, srv.PID) + "\n", ""},
		"silent": {fmt.Sprintf(stillRunsLine, silent.PID) + "\n", ""},
	}
	for name, want := range wantLogs {
		// By name and by pid: both find the earlier record.
		for _, id := range []string{name, second.get(name).PID} {
			l := second.logs(id)
			if testsupport.Deref(l.Stdout) != want.stdout || testsupport.Deref(l.Stderr) != want.stderr {
				t.Errorf("logs of %s: stdout %q stderr %q; want %q, %q", id, testsupport.Deref(l.Stdout), testsupport.Deref(l.Stderr), want.stdout, want.stderr)
			}
			if logs := testsupport.Deref(l.Logs); !strings.HasSuffix(logs, strings.SplitAfter(want.stdout, "\n")[len(strings.SplitAfter(want.stdout, "\n"))-2]) {
				t.Errorf("the interleaved logs of %s do not end with the restart line: %q", id, logs)
			}
		}
	}
	// A log stream replays, then ends at once: nothing more will come.
	resp := second.openStream(t.Context(), http.MethodGet, "/process/srv/logs/stream", nil)
	lr := readLines(resp.Body)
	var lines []string
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		lines = append(lines, line)
	}
	if want := []string{"stdout:no newline yet", "stdout:" + fmt.Sprintf(stillRunsLine, srv.PID)}; !slices.Equal(lines, want) {
		t.Errorf("log stream of srv: %q, want %q", lines, want)
	}
	// No environment was kept on disk.
	entries, err := os.ReadDir(first.logDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if data, _ := os.ReadFile(filepath.Join(first.logDir, e.Name())); strings.Contains(string(data), "s3cr3t-in-env") {
			t.Errorf("%s holds a request's environment", e.Name())
		}
	}

	// An earlier name is free again; the newest record answers for it.
	again := second.exec(map[string]any{"name": "srv", "command": "echo new", "waitForCompletion": true})
	if got := second.get("srv"); got.PID != again.PID || got.StdoutText() != "new\n" {
		t.Errorf("GET /process/srv after a new srv: %v, want the new one", got)
	}
	var all []proc
	second.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &all)
	if len(all) != 4 || all[1].PID != srv.PID || all[3].PID != again.PID {
		t.Errorf("list after a new process: %v; want the 3 earlier records, then the new one", all)
	}
	if ended.ExitCode != 4 {
		t.Errorf("setup: ended exited %d", ended.ExitCode)
	}
}

// TestRestartAfterCleanStop: after SIGTERM, the next daemon lists the
// processes as they ended, without the restart line.
func TestRestartAfterCleanStop(t *testing.T) {
	t.Parallel()
	first := startDaemon(t, daemonOptions{})
	first.exec(map[string]any{"name": "three", "command": "echo bye; exit 3", "waitForCompletion": true})
	first.exec(map[string]any{"name": "server", "command": "exec sleep 1000"})
	if err, _ := first.stop(); err != nil {
		t.Fatalf("stop: %v", err)
	}
	second := startDaemon(t, daemonOptions{args: []string{"--log-dir", first.logDir}})
	if p := second.get("three"); p.Status != "failed" || p.ExitCode != 3 || p.LogsText() != "bye\n" {
		t.Errorf("three after a clean restart: %v; want failed, exit 3, its output alone", p)
	}
	if p := second.get("server"); p.Status != "stopped" || p.LogsText() != "" {
		t.Errorf("server after a clean restart: %v; want stopped, no output", p)
	}
}

// TestRestartCapsHold: the new daemon's caps apply to what it finds, the
// oldest first.
func TestRestartCapsHold(t *testing.T) {
	t.Parallel()
	// Segments of 64 KiB, so that caps remove part of a log.
	first := startDaemon(t, daemonOptions{args: []string{"--log-max-process-bytes", "262144"}})
	var names []string
	for i := 0; i < 4; i++ {
		name := "big" + strconv.Itoa(i)
		names = append(names, name)
		first.exec(map[string]any{"name": name, "command": fmt.Sprintf("head -c 200000 /dev/zero | tr '\\0' %d; echo", i), "waitForCompletion": true})
	}
	first.crash()

	second := startDaemon(t, daemonOptions{args: []string{"--log-dir", first.logDir,
		"--max-ended-processes", "3", "--log-max-process-bytes", "262144", "--log-max-total-bytes", "300000"}})
	var list []proc
	second.doJSON(http.MethodGet, "/process", nil, http.StatusOK, &list)
	var got []string
	for _, p := range list {
		got = append(got, p.Name)
	}
	if !slices.Equal(got, names[1:]) {
		t.Fatalf("records %v, want the 3 newest %v", got, names[1:])
	}
	var onDisk int64
	entries, _ := os.ReadDir(first.logDir)
	segment := regexp.MustCompile(`^p[0-9]+-[0-9]+\.log$`)
	for _, e := range entries {
		if info, err := e.Info(); err == nil && segment.MatchString(e.Name()) {
			onDisk += info.Size()
		}
	}
	if onDisk > 300000 {
		t.Errorf("%d bytes of logs on disk, over the 300000 budget", onDisk)
	}
	oldest, newest := second.logs("big1"), second.logs("big3")
	if logs := testsupport.Deref(oldest.Logs); !strings.HasPrefix(logs, "[sandbox-api: ") || !strings.Contains(logs, "bytes of older output were dropped") {
		t.Errorf("the oldest log does not start with a drop marker: %.100q", logs)
	}
	if logs := testsupport.Deref(newest.Logs); strings.Contains(logs, "dropped") || !strings.HasSuffix(logs, "3\n"+unsupervisedLine+"\n") || len(logs) != 200001+len(unsupervisedLine)+1 {
		t.Errorf("the newest log lost output or its end (%d bytes): ends %q", len(logs), logs[max(0, len(logs)-100):])
	}
}

// TestSecondDaemonOnLogDirRefuses: two daemons on one log folder would
// delete each other's logs: the second exits 1, naming the folder and the
// first daemon's pid.
func TestSecondDaemonOnLogDirRefuses(t *testing.T) {
	t.Parallel()
	first := startDaemon(t, daemonOptions{})
	ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
	defer cancel()
	cmd := exec.CommandContext(ctx, daemonBin, "-p", "0", "--host", "127.0.0.1", "--log-dir", first.logDir)
	cmd.Env = append(os.Environ(), "SANDBOX_API_TOKEN=")
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("second daemon: %v, want exit status 1; output:\n%s", err, out)
	}
	for _, want := range []string{first.logDir, "pid " + strconv.Itoa(first.pid), "log dir is in use"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the refusal does not say %q:\n%s", want, out)
		}
	}
	if strings.Contains(string(out), "listening") {
		t.Errorf("the second daemon listened before refusing:\n%s", out)
	}
	// The first one serves on, its folder untouched.
	first.exec(map[string]any{"command": "true", "waitForCompletion": true})
}
