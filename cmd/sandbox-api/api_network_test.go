package main

// Black-box tests of the /network API through the real daemon.

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
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
// after delay seconds.
func listenCommand(host string, port int, delay string) string {
	py := fmt.Sprintf(`import socket,time
time.sleep(%s)
s = socket.socket(socket.AF_INET6 if ":" in %q else socket.AF_INET)
s.bind((%q, %d)); s.listen(); time.sleep(60)`, delay, host, host, port)
	return "sh -c " + shellQuote("python3 -c "+shellQuote(py)+"; true") + "; true"
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
			port := freePort(t, network, tt.host)
			p := d.exec(map[string]any{"command": listenCommand(tt.host, port, "0")})
			defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)

			var body struct {
				PID   int        `json:"pid"`
				Ports []portInfo `json:"ports"`
			}
			eventually(t, 15*time.Second, func() (bool, string) {
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

func TestNetworkMonitor(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	events := make(chan map[string]any, 16)
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var ev map[string]any
		data, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(data, &ev); err != nil {
			t.Errorf("callback body %q: %v", data, err)
		}
		events <- ev
	}))
	defer cb.Close()

	port := freePort(t, "tcp4", "127.0.0.1")
	p := d.exec(map[string]any{"command": listenCommand("127.0.0.1", port, "1") + "; sleep 1"})
	d.wantError(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": "ftp://x"}, http.StatusBadRequest)
	d.doJSON(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": cb.URL}, http.StatusOK, nil)

	select {
	case ev := <-events:
		if ev["pid"] != p.PID || ev["port"] != float64(port) || ev["event"] != "open" {
			t.Errorf("event = %v, want pid %s port %d", ev, p.PID, port)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no callback for the new port")
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
	cb := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hit <- struct{}{}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer cb.Close()
	defer close(release)

	port := freePort(t, "tcp4", "127.0.0.1")
	p := d.exec(map[string]any{"command": listenCommand("127.0.0.1", port, "0.5") + "; sleep 1"})
	d.doJSON(http.MethodPost, "/network/process/"+p.PID+"/monitor", map[string]string{"callback": cb.URL}, http.StatusOK, nil)
	select {
	case <-hit:
	case <-time.After(20 * time.Second):
		t.Fatal("callback never called")
	}
	// The daemon answers while the callback hangs.
	start := time.Now()
	d.doJSON(http.MethodGet, "/network/process/"+p.PID+"/ports", nil, http.StatusOK, nil)
	if el := time.Since(start); el > 10*time.Second {
		t.Errorf("ports took %s while a callback hung", el)
	}
	// Ending the process ends its monitor.
	d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
	d.waitEnded(p.PID, 15*time.Second)
	eventually(t, 15*time.Second, func() (bool, string) {
		resp, _ := d.do(http.MethodDelete, "/network/process/"+p.PID+"/monitor", nil)
		return resp.StatusCode == http.StatusNotFound, "monitor still there: " + strconv.Itoa(resp.StatusCode)
	})
}
