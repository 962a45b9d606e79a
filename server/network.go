package server

import (
	"errors"
	"net/http"
	"net/url"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
)

// networkHandlers serve the /network routes: listening ports and port
// monitors. Their errors go through networkRoutes (statuses.go).
type networkHandlers struct {
	net  *network.Service
	opts Options
}

// invalidPID is the existing daemon's answer to a value that is no pid.
const invalidPID = "invalid PID"

// pathPID is the pid (or name) in the path.
func pathPID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id, err := url.PathUnescape(chi.URLParam(r, "pid"))
	if err != nil || id == "" {
		writeError(w, http.StatusBadRequest, invalidPID)
		return "", false
	}
	return id, true
}

// networkFailure answers a failed call of the network service. Two
// errors keep the existing daemon's words, which clients match on, rather
// than the service's (which name the value).
func networkFailure(w http.ResponseWriter, err error) {
	msg := err.Error()
	switch {
	case errors.Is(err, network.ErrInvalidPID):
		msg = invalidPID
	case errors.Is(err, process.ErrNotFound):
		msg = "process not found"
	}
	writeError(w, networkRoutes.statusOf(err), msg)
}

func (h *networkHandlers) processPorts(w http.ResponseWriter, r *http.Request) {
	id, ok := pathPID(w, r)
	if !ok {
		return
	}
	pid, ports, err := h.net.ProcessPorts(id)
	if err != nil {
		networkFailure(w, err)
		return
	}
	out := processPortsJSON{PID: pid, Ports: make([]portJSON, len(ports))}
	for i, p := range ports {
		out.Ports[i] = wirePort(p)
	}
	writeJSON(w, http.StatusOK, out)
}

func (h *networkHandlers) allPorts(w http.ResponseWriter, r *http.Request) {
	ports, err := h.net.AllPorts()
	if err != nil {
		networkFailure(w, err)
		return
	}
	out := allPortsJSON{Ports: make([]openPortJSON, len(ports))}
	for i, p := range ports {
		out.Ports[i] = openPortJSON{portJSON: wirePort(p.Port)}
		if p.Process != nil {
			out.Ports[i].Process = &managedRefJSON{PID: p.Process.PID, Name: p.Process.Name}
		}
	}
	writeJSON(w, http.StatusOK, out)
}

type monitorRequest struct {
	Callback string `json:"callback"`
}

func (h *networkHandlers) startMonitor(w http.ResponseWriter, r *http.Request) {
	id, ok := pathPID(w, r)
	if !ok {
		return
	}
	var req monitorRequest
	if !decodeJSON(w, r, maxJSONBody, &req, false) {
		return
	}
	if err := network.ValidateCallback(req.Callback); err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	pid, err := h.net.StartMonitor(id, req.Callback)
	if err != nil {
		networkFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"pid": pid, "message": "Port monitoring started"})
}

func (h *networkHandlers) stopMonitor(w http.ResponseWriter, r *http.Request) {
	id, ok := pathPID(w, r)
	if !ok {
		return
	}
	pid, stopped, err := h.net.StopMonitor(id)
	if err != nil {
		networkFailure(w, err)
		return
	}
	if !stopped {
		writeError(w, http.StatusNotFound, "no port monitor for this process")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"pid": pid, "message": "Port monitoring stopped"})
}
