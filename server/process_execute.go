package server

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// processRequest is the body of POST /process (the contract's
// ProcessRequest). A new request field goes here and in request below;
// the domain side is process.Spec or process.ExecuteRequest.
type processRequest struct {
	Command           string            `json:"command"`
	Name              string            `json:"name"`
	WorkingDir        string            `json:"workingDir"`
	Env               map[string]string `json:"env"`
	WaitForCompletion bool              `json:"waitForCompletion"`
	Timeout           *int              `json:"timeout"` // seconds
	WaitForPorts      []int             `json:"waitForPorts"`
	RestartOnFailure  bool              `json:"restartOnFailure"`
	MaxRestarts       int               `json:"maxRestarts"`
	KeepAlive         bool              `json:"keepAlive"`
	Stdin             bool              `json:"stdin"`
}

// missingCommand is the existing daemon's validator message for a request
// without a command, word for word: clients match on it.
const missingCommand = invalidBody + "Key: 'ProcessRequest.Command' Error:Field validation for 'Command' failed on the 'required' tag"

// errMissingCommand carries missingCommand to specMessage, which answers a
// plain error with its text.
var errMissingCommand = errors.New(missingCommand)

// request maps the body to the domain's request, with the contract's
// waits: waitForPorts gives up after process.DefaultPortsWait, and
// waitForCompletion waits as long as the process runs, unless timeout
// bounds both. Its errors are 400s, worded by specMessage.
func (b *processRequest) request() (process.ExecuteRequest, error) {
	if b.Command == "" {
		return process.ExecuteRequest{}, errMissingCommand
	}
	req := process.ExecuteRequest{
		Spec: process.Spec{
			Command:          b.Command,
			Name:             b.Name,
			WorkingDir:       b.WorkingDir,
			Env:              b.Env,
			KeepAlive:        b.KeepAlive,
			RestartOnFailure: b.RestartOnFailure,
			MaxRestarts:      b.MaxRestarts,
			Stdin:            b.Stdin,
		},
		WaitForPorts:      b.WaitForPorts,
		WaitForCompletion: b.WaitForCompletion,
		Waits:             process.Waits{Ports: process.DefaultPortsWait},
	}
	if b.Timeout != nil {
		d, err := process.TimeoutSeconds(*b.Timeout)
		if err != nil {
			return process.ExecuteRequest{}, err
		}
		req.Timeout = &d
	}
	return req, nil
}

// execute is POST /process: process.Manager.Execute, or with Accept:
// text/event-stream a start whose output is streamed.
func (h *processHandlers) execute(w http.ResponseWriter, r *http.Request) {
	var body processRequest
	if !decodeJSON(w, r, maxJSONBody, &body, false) {
		return
	}
	req, err := body.request()
	if err != nil {
		writeError(w, http.StatusBadRequest, specMessage(err))
		return
	}
	if strings.Contains(r.Header.Get("Accept"), "text/event-stream") {
		h.executeStreaming(w, r, req)
		return
	}
	p, err := h.m.Execute(r.Context(), req)
	switch {
	case p == nil:
		writeStartError(w, err)
	case err != nil:
		h.waitFailed(w, err) // the process keeps running
	case !req.WaitForCompletion:
		writeProcess(w, http.StatusOK, p.Info(), "", nil) // not waited for: no output yet
	default:
		writeProcess(w, http.StatusOK, p.Info(), "", fullOutput(p, r))
	}
}

// executeStreaming starts the process and streams its output until it
// ends or timeout elapses (see streamExecution) instead of waiting for it.
// It does not wait for ports, as the existing daemon does not, but still
// refuses bad ones as the plain answer does.
func (h *processHandlers) executeStreaming(w http.ResponseWriter, r *http.Request, req process.ExecuteRequest) {
	if err := process.ValidatePorts(req.WaitForPorts); err != nil {
		writeError(w, http.StatusBadRequest, specMessage(err))
		return
	}
	r, release, ok := h.streams.acquire(w, r) // a slot first: a refused stream must not start anything
	if !ok {
		return
	}
	defer release()
	h.opts.Processors.BulkStarted() // a stream moves bulk data (bulkWork)
	defer h.opts.Processors.BulkEnded()
	p, err := h.m.Start(req.Spec)
	if err != nil {
		writeStartError(w, err)
		return
	}
	var timeout time.Duration // 0: as long as the process runs
	if req.Timeout != nil {
		timeout = *req.Timeout
	}
	h.streamExecution(w, r, p, timeout)
}
