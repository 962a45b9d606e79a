package main

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
)

// TestStderrReaderGoneDoesNotKill: when whatever read the daemon's stderr
// goes away, the next log line must not kill the daemon with SIGPIPE; and
// the processes it starts still get SIGPIPE's default action.
func TestStderrReaderGoneDoesNotKill(t *testing.T) {
	t.Parallel()
	d := startPipedDaemon(t)
	addr, exited := d.addr, d.exited
	d.logR.Close() // the reader goes away: the next write gets EPIPE

	client := &http.Client{Timeout: hangGuard}
	for i := 0; i < 20; i++ { // each request logs a line
		resp, err := client.Get("http://" + addr + "/health")
		if err != nil {
			t.Fatalf("request %d after stderr's reader left: %v (daemon: %v)", i, err, exitState(exited))
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	// A child's SIGPIPE is still fatal to it (not ignored, which exec
	// would have passed on): the shell dies before it can echo.
	body := `{"command":"kill -PIPE $$; echo survived","waitForCompletion":true}`
	resp, err := client.Post("http://"+addr+"/process", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var p proc
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if p.StdoutText() != "" || p.ExitCode == 0 {
		t.Errorf("child after kill -PIPE: %s, exit %d, stdout %q; want it killed before the echo", p.Status, p.ExitCode, p.StdoutText())
	}
}

// TestSIGHUPShutsDownCleanly: SIGHUP ends the daemon like SIGTERM, its
// process groups first, with exit status 0.
func TestSIGHUPShutsDownCleanly(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	p := d.exec(map[string]any{"command": "sleep 300"})
	pid, err := strconv.Atoi(p.PID)
	if err != nil {
		t.Fatal(err)
	}
	if err, took := d.stopWith(syscall.SIGHUP); err != nil {
		t.Errorf("exit after SIGHUP (%s): %v, want status 0", took, err)
	}
	if pidLive(pid) {
		t.Errorf("the managed sleep %d outlived the daemon", pid)
	}
}

func exitState(exited chan error) string {
	select {
	case err := <-exited:
		return "exited: " + errString(err)
	default:
		return "still running"
	}
}

func errString(err error) string {
	if err == nil {
		return "status 0"
	}
	return err.Error()
}
