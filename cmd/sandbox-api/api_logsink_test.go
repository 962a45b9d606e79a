package main

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestStalledStderrDoesNotBlock: with nobody reading the daemon's stderr
// (a blocked log driver), requests still answer, well past what the pipe
// and the log buffer hold; lines that did not fit are reported as dropped
// once stderr is read again; and SIGTERM still ends the daemon with stderr
// stalled. Written straight to stderr, the access log hung every request
// after about 220 of them.
func TestStalledStderrDoesNotBlock(t *testing.T) {
	t.Parallel()
	// Read up to the listen address, then stop reading.
	d := startPipedDaemon(t)
	cmd, addr, br, exited := d.cmd, d.addr, d.log, d.exited

	// About 6000 access-log lines: several times the pipe and the buffer.
	client := &http.Client{Timeout: hangGuard}
	flood := func(stage string) {
		t.Helper()
		for i := 0; i < 6000; i++ {
			resp, err := client.Get("http://" + addr + "/no-such-route")
			if err != nil {
				t.Fatalf("%s: request %d with stderr unread: %v", stage, i, err)
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusNotFound {
				t.Fatalf("%s: request %d: status %d", stage, i, resp.StatusCode)
			}
		}
	}
	flood("first stall")

	// Read again: the lines that did not fit are reported. Reading stops
	// at the report, so stderr stalls again.
	reported := make(chan int, 1)
	go func() {
		defer close(reported)
		for {
			line, err := br.ReadBytes('\n')
			if err != nil {
				return
			}
			var e struct {
				Msg     string
				Dropped int
			}
			if json.Unmarshal(line, &e) == nil && strings.HasPrefix(e.Msg, "log lines dropped") {
				reported <- e.Dropped
				return
			}
		}
	}()
	if dropped := testsupport.Receive(t, reported, "a report of the dropped log lines once stderr is read"); dropped == 0 {
		t.Errorf("no report of dropped log lines after the stall (stderr ended first)")
	}

	// SIGTERM with stderr stalled again: the daemon gives up on its last
	// log lines rather than hang. Nothing reads stderr until it exited.
	flood("second stall")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := testsupport.Receive(t, exited, "the daemon to exit on SIGTERM with stderr stalled"); err != nil {
		t.Errorf("daemon exit: %v, want 0", err)
	}
}

// pipedDaemon is the daemon binary with its stderr on a pipe the test
// reads, or stops reading, as it likes; startPipedDaemon has read up to the
// listen address.
type pipedDaemon struct {
	cmd    *exec.Cmd
	addr   string
	log    *bufio.Reader // the rest of stderr
	logR   *os.File      // its read end: closing it makes writes fail
	exited chan error    // gets cmd.Wait's result
}

func startPipedDaemon(t *testing.T) *pipedDaemon {
	t.Helper()
	logR, logW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { logR.Close() })
	cmd := exec.Command(daemonBin, "-p", "0", "--host", "127.0.0.1", "--log-dir", t.TempDir())
	cmd.Dir = t.TempDir()
	cmd.Stderr = logW
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logW.Close()
	d := &pipedDaemon{cmd: cmd, log: bufio.NewReader(logR), logR: logR, exited: make(chan error, 1)}
	go func() { d.exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	for d.addr == "" {
		line, err := d.log.ReadBytes('\n')
		if err != nil {
			t.Fatalf("daemon log ended before its address: %v", err)
		}
		var e struct{ Msg, Addr string }
		if json.Unmarshal(line, &e) == nil && e.Msg == "sandbox-api listening" {
			d.addr = e.Addr
		}
	}
	return d
}
