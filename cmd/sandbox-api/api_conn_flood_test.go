package main

// Black-box: a flood of connections that never complete a request (a body
// that never comes, headers cut in the middle, nothing at all, an idle
// keep-alive) far beyond the connection bound does not stop the daemon
// from serving /health and authenticated calls, never holds more
// descriptors than the bound allows, and leaves none behind.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

const (
	// floodBound is the --max-connections of the flood test.
	floodBound = 64
	// floodAttackers is how many connections the flood opens; the daemon
	// may hold floodFdLimit descriptors, far fewer, so without a bound
	// the flood would take them all.
	floodAttackers = 1200
	floodFdLimit   = 256
	// floodSlack is what the daemon may hold beyond its baseline and its
	// connections: a connection being accepted, one whose close is under
	// way, a probe's process.
	floodSlack = 16
)

// attacks are the requests of the flood: none of them is ever complete.
var attacks = []struct{ name, send string }{
	{"stalled body", "POST /process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1\r\n\r\n"},
	{"stalled headers", "POST /process HTTP/1.1\r\nHost: x\r\n"},
	{"silent", ""},
	{"idle keep-alive", "GET /health HTTP/1.1\r\nHost: x\r\n\r\n"},
}

// fdCount is the number of descriptors pid holds.
func fdCount(t testing.TB, pid int) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/" + strconv.Itoa(pid) + "/fd")
	if err != nil {
		t.Fatalf("count the daemon's descriptors: %v", err)
	}
	return len(entries)
}

func TestConnectionFloodKeepsServing(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--token", connTestToken, "--max-connections", strconv.Itoa(floodBound)}})
	limit := fmt.Sprintf("--nofile=%d:%d", floodFdLimit, floodFdLimit)
	if out, err := exec.Command("prlimit", "--pid", strconv.Itoa(d.pid), limit).CombinedOutput(); err != nil {
		t.Fatalf("prlimit %s: %v: %s", limit, err, out)
	}

	// Each probe comes on a new connection, as a new client would.
	probes := &http.Client{Timeout: hangGuard, Transport: &http.Transport{DisableKeepAlives: true}}
	defer probes.CloseIdleConnections()
	probe := func(stage string) {
		t.Helper()
		resp, err := probes.Get(d.url + "/health")
		if err != nil {
			t.Fatalf("%s: GET /health: %v", stage, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: GET /health: %d", stage, resp.StatusCode)
		}
		req := d.request(t.Context(), http.MethodPost, "/process", map[string]any{"command": "echo probe", "waitForCompletion": true},
			"Authorization", "Bearer "+connTestToken)
		resp, err = probes.Do(req)
		if err != nil {
			t.Fatalf("%s: POST /process: %v", stage, err)
		}
		var p proc
		err = json.NewDecoder(resp.Body).Decode(&p)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || err != nil || !strings.Contains(p.StdoutText(), "probe") {
			t.Fatalf("%s: POST /process: %d, %+v (%v)", stage, resp.StatusCode, p, err)
		}
	}
	probe("before the flood") // whatever a first process opens for good is in the baseline
	baseline := fdCount(t, d.pid)
	checkBound := func(stage string) {
		t.Helper()
		if n := fdCount(t, d.pid); n > baseline+floodBound+floodSlack {
			t.Fatalf("%s: the daemon holds %d descriptors, over %d (baseline) + %d (bound) + %d", stage, n, baseline, floodBound, floodSlack)
		}
	}

	var conns []net.Conn
	defer func() {
		for _, c := range conns {
			_ = c.Close()
		}
	}()
	addr := fmt.Sprintf("127.0.0.1:%d", d.port)
	for i := range floodAttackers {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("attacker %d: dial: %v", i, err)
		}
		conns = append(conns, c)
		if a := attacks[i%len(attacks)]; a.send != "" {
			// A write to a connection the daemon already closed may fail:
			// that is the daemon defending itself.
			_, _ = c.Write([]byte(a.send))
		}
		if (i+1)%200 == 0 {
			stage := fmt.Sprintf("after %d attackers", i+1)
			probe(stage)
			checkBound(stage)
		}
	}
	probe("with every attacker connected")
	checkBound("with every attacker connected")

	for _, c := range conns {
		_ = c.Close()
	}
	conns = nil
	testsupport.Eventually(t, func() (bool, string) {
		n := fdCount(t, d.pid)
		return n <= baseline, fmt.Sprintf("the daemon holds %d descriptors after the flood, baseline %d", n, baseline)
	})
	probe("after the flood")
}
