package main

// The ports routes answer in the existing daemon's shape, which clients
// read: {"pid": <number>, "ports": [{pid, protocol, localAddr, localPort,
// remoteAddr, remotePort, state, processName}]}.

import (
	"encoding/json"
	"net/http"
	"sort"
	"strconv"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// portItemKeys are the fields of a port item clients of the existing daemon
// read, with the JSON type each must have; family is ours.
var portItemKeys = map[string]string{
	"pid": "number", "protocol": "string", "localAddr": "string", "localPort": "number",
	"remoteAddr": "string", "remotePort": "number", "state": "string", "processName": "string",
	"family": "string",
}

func jsonKind(v any) string {
	switch v.(type) {
	case float64:
		return "number"
	case string:
		return "string"
	case nil:
		return "null"
	case map[string]any:
		return "object"
	default:
		return "other"
	}
}

// checkPortItem checks the names and types of an item's fields (extra
// names allowed) and returns the item.
func checkPortItem(t *testing.T, item map[string]any, extra ...string) {
	t.Helper()
	for k, kind := range portItemKeys {
		if got := jsonKind(item[k]); got != kind {
			t.Errorf("item field %q is %s (%v), want %s; item %v", k, got, item[k], kind, item)
		}
	}
	var unknown []string
	for k := range item {
		if _, ok := portItemKeys[k]; !ok && !contains(extra, k) {
			unknown = append(unknown, k)
		}
	}
	sort.Strings(unknown)
	if len(unknown) > 0 {
		t.Errorf("unexpected item fields %v (the old shape?); item %v", unknown, item)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func portItem(t *testing.T, items []map[string]any, port int) map[string]any {
	t.Helper()
	for _, it := range items {
		if it["localPort"] == float64(port) {
			return it
		}
	}
	t.Fatalf("port %d not among %v", port, items)
	return nil
}

func TestPortsWireShape(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	port := testsupport.FreePort(t, "tcp4", "0.0.0.0")
	p := d.exec(map[string]any{"command": listenCommand("0.0.0.0", port, ""), "waitForPorts": []int{port}, "timeout": 600})
	defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)

	for _, id := range []string{p.PID, p.Name} {
		var body struct {
			PID   json.RawMessage  `json:"pid"`
			Ports []map[string]any `json:"ports"`
		}
		d.doJSON(http.MethodGet, "/network/process/"+id+"/ports", nil, http.StatusOK, &body)
		if string(body.PID) != p.PID {
			t.Errorf("by %s: pid = %s, want the number %s", id, body.PID, p.PID)
		}
		item := portItem(t, body.Ports, port)
		checkPortItem(t, item)
		owner := strconv.Itoa(int(item["pid"].(float64)))
		if item["protocol"] != "tcp" || item["localAddr"] != "0.0.0.0" || item["remoteAddr"] != "" ||
			item["remotePort"] != float64(0) || item["state"] != "LISTEN" || item["processName"] != "python3" {
			t.Errorf("by %s: item %v", id, item)
		}
		// The socket's owner is the python3 below the managed shell.
		if owner == p.PID || !pidLive(int(item["pid"].(float64))) {
			t.Errorf("by %s: item pid %s is not the live socket owner below %s", id, owner, p.PID)
		}
	}

	var all struct {
		Ports []map[string]any `json:"ports"`
	}
	d.doJSON(http.MethodGet, "/network/ports", nil, http.StatusOK, &all)
	item := portItem(t, all.Ports, port)
	checkPortItem(t, item, "process")
	if item["processName"] != "python3" || jsonKind(item["process"]) != "object" {
		t.Errorf("/network/ports item %v, want python3 within process %s", item, p.PID)
	}
}

// A value that is no pid and no process name is the existing daemon's 400;
// a pid no process has is 404.
func TestPortsInvalidPID(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	for _, tt := range []struct {
		method, path string
		status       int
	}{
		{http.MethodGet, "/network/process/abc/ports", http.StatusBadRequest},
		{http.MethodGet, "/network/process/-1/ports", http.StatusBadRequest},
		{http.MethodGet, "/network/process/%20/ports", http.StatusBadRequest},
		{http.MethodPost, "/network/process/abc/monitor", http.StatusBadRequest},
		{http.MethodDelete, "/network/process/abc/monitor", http.StatusBadRequest},
		{http.MethodGet, "/network/process/4194305/ports", http.StatusNotFound},
	} {
		var body any
		if tt.method == http.MethodPost {
			body = map[string]string{"callback": "http://127.0.0.1:1/cb"}
		}
		msg := d.wantError(tt.method, tt.path, body, tt.status)
		if tt.status == http.StatusBadRequest && msg != "invalid PID" {
			t.Errorf("%s %s: error %q, want %q", tt.method, tt.path, msg, "invalid PID")
		}
	}
}

// A pid of the container the daemon did not start has its ports too.
func TestPortsOfUnmanagedPID(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	port := testsupport.FreePort(t, "tcp4", "127.0.0.1")
	// The socket's owner is a python3 below the managed shell: the process
	// API does not know it by its pid.
	p := d.exec(map[string]any{"command": listenCommand("127.0.0.1", port, ""), "waitForPorts": []int{port}, "timeout": 600})
	defer d.do(http.MethodDelete, "/process/"+p.PID+"/kill", nil)
	var all struct {
		Ports []map[string]any `json:"ports"`
	}
	d.doJSON(http.MethodGet, "/network/ports", nil, http.StatusOK, &all)
	owner := strconv.Itoa(int(portItem(t, all.Ports, port)["pid"].(float64)))
	var body struct {
		PID   int              `json:"pid"`
		Ports []map[string]any `json:"ports"`
	}
	d.doJSON(http.MethodGet, "/network/process/"+owner+"/ports", nil, http.StatusOK, &body)
	if strconv.Itoa(body.PID) != owner {
		t.Errorf("pid = %d, want %s", body.PID, owner)
	}
	portItem(t, body.Ports, port)
}
