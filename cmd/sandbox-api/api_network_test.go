package main

// Black-box tests of the /network API through the real daemon.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

type portInfo struct {
	PID         int    `json:"pid"`
	Port        int    `json:"localPort"`
	Address     string `json:"localAddr"`
	Family      string `json:"family"`
	ProcessName string `json:"processName"`
	Process     *struct {
		PID  string `json:"pid"`
		Name string `json:"name"`
	} `json:"process"`
}

// listenCommand listens on host:port from a grandchild of the managed shell,
// once the file gate exists ("" for at once), until it is killed.
func listenCommand(host string, port int, gate string) string {
	py := fmt.Sprintf(`import os,socket,time
while %q and not os.path.exists(%q): time.sleep(0.01)
s = socket.socket(socket.AF_INET6 if ":" in %q else socket.AF_INET)
s.bind((%q, %d)); s.listen(); time.sleep(3600)`, gate, gate, host, host, port)
	return "sh -c " + testsupport.ShellQuote("python3 -c "+testsupport.ShellQuote(py)+"; true") + "; true"
}

// openGate creates the file a listenCommand waits for.
func openGate(t *testing.T, gate string) {
	t.Helper()
	if err := os.WriteFile(gate, nil, 0o600); err != nil {
		t.Fatal(err)
	}
}

func findPort(ports []portInfo, port int) *portInfo {
	for i := range ports {
		if ports[i].Port == port {
			return &ports[i]
		}
	}
	return nil
}

func TestNetworkProcessPorts(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	tests := []struct{ name, host, family string }{
		{"loopback ipv4", "127.0.0.1", "ipv4"},
		{"loopback ipv6", "::1", "ipv6"},
		{"any ipv4", "0.0.0.0", "ipv4"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			network := "tcp4"
			if tt.family == "ipv6" {
				network = "tcp6"
			}
			port := testsupport.FreePort(t, network, tt.host)
			p := d.exec(map[string]any{"command": listenCommand(tt.host, port, "")})
			defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)

			var body struct {
				PID   int        `json:"pid"`
				Ports []portInfo `json:"ports"`
			}
			testsupport.Eventually(t, func() (bool, string) {
				d.doJSON(http.MethodGet, "/network/process/"+p.PID+"/ports", nil, http.StatusOK, &body)
				return findPort(body.Ports, port) != nil, fmt.Sprintf("port %d not in %+v", port, body.Ports)
			})
			if strconv.Itoa(body.PID) != p.PID {
				t.Errorf("pid = %d, want %s", body.PID, p.PID)
			}
			got := findPort(body.Ports, port)
			if got.Address != tt.host || got.Family != tt.family {
				t.Errorf("got %+v, want %s %s", *got, tt.host, tt.family)
			}

			var all struct {
				Ports []portInfo `json:"ports"`
			}
			d.doJSON(http.MethodGet, "/network/ports", nil, http.StatusOK, &all)
			a := findPort(all.Ports, port)
			if a == nil || a.Process == nil || a.Process.PID != p.PID || a.ProcessName != "python3" {
				t.Errorf("/network/ports entry for %d = %+v, want owner python3 in process %s", port, a, p.PID)
			}
		})
	}
}

func TestNetworkUnknownProcess(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	for _, tt := range []struct{ method, path string }{
		{http.MethodGet, "/network/process/999999/ports"},
		{http.MethodPost, "/network/process/999999/monitor"},
		{http.MethodDelete, "/network/process/999999/monitor"},
	} {
		var body any
		if tt.method == http.MethodPost {
			body = map[string]string{"callback": "http://127.0.0.1:1/cb"}
		}
		d.wantError(tt.method, tt.path, body, http.StatusNotFound)
	}
}

// monitorCallback is a port monitor's callback server: the events it is
// sent come out of the channel. It closes with the test.
func monitorCallback(t *testing.T) (url string, events <-chan map[string]any) {
	got := make(chan map[string]any, 16)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Errorf("callback body %q: %v", data, err)
		}
		got <- ev
	}))
	t.Cleanup(cb.Close)
	return cb.URL, got
}

func TestNetworkMonitor(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	cbURL, events := monitorCallback(t)

	port := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	// The port opens once the monitor runs: ports open before are not new.
	gate := filepath.Join(t.TempDir(), "listen")
	p := d.exec(map[string]any{"command": listenCommand("127.0.0.1", port, gate)})
	d.wantError(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": "ftp://x"}, http.StatusBadRequest)
	d.doJSON(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": cbURL}, http.StatusOK, nil)
	openGate(t, gate)

	if ev := testsupport.Receive(t, events, "a callback for the new port"); ev["pid"] != p.PID || ev["port"] != float64(port) || ev["event"] != "open" {
		t.Errorf("event = %v, want pid %s port %d", ev, p.PID, port)
	}
	d.doJSON(http.MethodDelete, "/network/process/"+p.PID+"/monitor", nil, http.StatusOK, nil)
	d.wantError(http.MethodDelete, "/network/process/"+p.PID+"/monitor", nil, http.StatusNotFound)
	d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
}

// A callback that never answers must not stall the daemon, and a monitor
// ends with its process.
func TestNetworkMonitorHangingCallback(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	hit := make(chan struct{}, 16)
	release := make(chan struct{})
	var hanging atomic.Int32 // callback requests in the handler now
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hanging.Add(1)
		defer hanging.Add(-1)
		hit <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer cb.Close()
	defer close(release)

	port := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	gate := filepath.Join(t.TempDir(), "listen")
	p := d.exec(map[string]any{"command": listenCommand("127.0.0.1", port, gate)})
	d.doJSON(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": cb.URL}, http.StatusOK, nil)
	openGate(t, gate)
	testsupport.Receive(t, hit, "the callback to be called")
	// The daemon answers while the callback hangs: by order, not by a
	// clock. Only the daemon's callback timeout (3 s a try) ends a try.
	d.doJSON(http.MethodGet, "/network/process/"+p.PID+"/ports", nil, http.StatusOK, nil)
	if hanging.Load() == 0 {
		t.Errorf("no callback request was still hanging when /ports answered")
	}
	// Ending the process ends its monitor.
	d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
	d.waitEnded(p.PID)
	testsupport.Eventually(t, func() (bool, string) {
		resp, _ := d.do(http.MethodDelete, "/network/process/"+p.PID+"/monitor", nil)
		return resp.StatusCode == http.StatusNotFound, "monitor still there: " + strconv.Itoa(resp.StatusCode)
	})
}
