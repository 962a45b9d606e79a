package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"syscall"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/process"
)

// defaultPortsWait bounds waitForPorts when the request gives no timeout.
const defaultPortsWait = 60 * time.Second

type processHandlers struct {
	m       *process.Manager
	opts    Options
	streams *streamLimit
}

func registerProcessRoutes(r chi.Router, h *processHandlers) {
	r.Get("/process", h.list)
	r.Post("/process", h.execute)
	r.Get("/process/{identifier}", h.get)
	r.Delete("/process/{identifier}", h.stop)
	r.Delete("/process/{identifier}/kill", h.kill)
	r.Get("/process/{identifier}/logs", h.logs)
	r.Get("/process/{identifier}/logs/stream", h.streams.wrap(h.streamLogs))
	r.Post("/process/{identifier}/stdin", h.writeStdin)
	r.Delete("/process/{identifier}/stdin", h.closeStdin)
}

// lookup finds the process named in the path, or answers 404.
func (h *processHandlers) lookup(w http.ResponseWriter, r *http.Request) (*process.Process, bool) {
	id, err := url.PathUnescape(chi.URLParam(r, "identifier"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid process identifier")
		return nil, false
	}
	p, err := h.m.Get(id)
	if err != nil {
		writeError(w, http.StatusNotFound, "process not found")
		return nil, false
	}
	return p, true
}

// startStatus maps the errors of Manager.Start to HTTP statuses.
func startStatus(err error) int {
	switch {
	case errors.Is(err, process.ErrInvalidSpec), errors.Is(err, process.ErrNameInUse):
		return http.StatusBadRequest
	case errors.Is(err, process.ErrShuttingDown):
		return http.StatusServiceUnavailable
	default:
		return http.StatusUnprocessableEntity
	}
}

func (h *processHandlers) execute(w http.ResponseWriter, r *http.Request) {
	var req processRequest
	if !decodeJSON(w, r, maxJSONBody, &req, false) {
		return
	}
	var timeout time.Duration
	if req.Timeout != nil {
		var err error
		if timeout, err = process.TimeoutSeconds(*req.Timeout); err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
	}
	spec := process.Spec{
		Command:          req.Command,
		Name:             req.Name,
		WorkingDir:       req.WorkingDir,
		Env:              req.Env,
		KeepAlive:        req.KeepAlive,
		RestartOnFailure: req.RestartOnFailure,
		MaxRestarts:      req.MaxRestarts,
		Stdin:            req.Stdin,
	}
	if err := process.ValidatePorts(req.WaitForPorts); err != nil {
		writeError(w, http.StatusBadRequest, err.Error()) // before anything runs
		return
	}
	if req.Timeout != nil {
		spec.Timeout = &timeout
	}
	streaming := strings.Contains(r.Header.Get("Accept"), "text/event-stream")
	if streaming { // a slot first: a refused stream must not start anything
		release, ok := h.streams.acquire(w)
		if !ok {
			return
		}
		defer release()
	}
	p, err := h.m.Start(spec)
	if err != nil {
		writeError(w, startStatus(err), err.Error())
		return
	}
	if streaming {
		h.streamExecution(w, r, p, timeout)
		return
	}
	if len(req.WaitForPorts) > 0 {
		wait := timeout
		if wait == 0 {
			wait = defaultPortsWait
		}
		if err := p.WaitForPorts(r.Context(), req.WaitForPorts, wait); err != nil {
			h.waitFailed(w, err)
			return
		}
	}
	if !req.WaitForCompletion {
		writeProcess(w, http.StatusOK, p.Info(), "", nil)
		return
	}
	if err := p.Wait(r.Context(), timeout); err != nil {
		h.waitFailed(w, err)
		return
	}
	writeProcess(w, http.StatusOK, p.Info(), "", fullOutput(p, r))
}

// waitFailed answers a wait that ended without what was waited for. The
// process itself keeps running.
func (h *processHandlers) waitFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return // the client left
	case errors.Is(err, process.ErrInvalidSpec):
		writeError(w, http.StatusBadRequest, err.Error())
	default:
		writeError(w, http.StatusUnprocessableEntity, err.Error()+"; the process keeps running")
	}
}

// writeProcess answers one ProcessResponse, its output streamed from out.
func writeProcess(w http.ResponseWriter, status int, info process.Info, message string, out outputSource) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	bw := bufio.NewWriterSize(w, 4<<10) // larger output goes through in the string writer's pieces
	if err := writeProcessJSON(bw, info, message, out); err != nil {
		return // headers are gone: the cut-off body tells the client
	}
	_ = bw.WriteByte('\n')
	_ = bw.Flush()
}

func (h *processHandlers) list(w http.ResponseWriter, r *http.Request) {
	procs := h.m.List()
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 4<<10) // larger output goes through in the string writer's pieces
	_ = bw.WriteByte('[')
	for i, p := range procs {
		if i > 0 {
			_ = bw.WriteByte(',')
		}
		if err := writeProcessJSON(bw, p.Info(), "", tailOutput(p, tailBytesList)); err != nil {
			return
		}
	}
	_, _ = bw.WriteString("]\n")
	_ = bw.Flush()
}

func (h *processHandlers) get(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	writeProcess(w, http.StatusOK, p.Info(), "", tailOutput(p, tailBytesOne))
}

func (h *processHandlers) stop(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if isEnded(p) {
		writeProcess(w, http.StatusOK, p.Info(), "process had already ended", nil)
		return
	}
	if err := p.Stop(r.Context()); err != nil {
		return // the client left; the stop goes on
	}
	writeProcess(w, http.StatusOK, p.Info(), "process stopped", nil)
}

type killRequest struct {
	Signal string `json:"signal"`
}

func (h *processHandlers) kill(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	var req killRequest
	if !decodeJSON(w, r, maxSmallBody, &req, true) {
		return
	}
	var sig syscall.Signal
	if req.Signal != "" {
		s, err := process.ParseSignal(req.Signal)
		if err != nil {
			writeError(w, http.StatusBadRequest, err.Error())
			return
		}
		sig = s
	}
	if isEnded(p) {
		writeProcess(w, http.StatusOK, p.Info(), "process had already ended", nil)
		return
	}
	err := p.Kill(r.Context(), sig)
	switch {
	case err == nil:
		writeProcess(w, http.StatusOK, p.Info(), "process killed", nil)
	case errors.Is(err, process.ErrWaitTimeout):
		writeProcess(w, http.StatusOK, p.Info(), fmt.Sprintf("signal %s sent; the process is still running", process.SignalName(sig)), nil)
	}
}

func isEnded(p *process.Process) bool {
	select {
	case <-p.Done():
		return true
	default:
		return false
	}
}

func (h *processHandlers) logs(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	out := fullOutput(p, r)
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 4<<10) // larger output goes through in the string writer's pieces
	for i, f := range outputFields {
		sep := ","
		if i == 0 {
			sep = "{"
		}
		_, _ = fmt.Fprintf(bw, `%s%q:`, sep, f.key)
		if err := writeOutputValue(bw, out, f.streams); err != nil {
			return
		}
	}
	_, _ = bw.WriteString("}\n")
	_ = bw.Flush()
}

func (h *processHandlers) writeStdin(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStdinBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("stdin body is larger than %d bytes", maxStdinBody))
		return
	case err != nil:
		writeError(w, http.StatusBadRequest, "read body: "+err.Error())
		return
	}
	if err := p.WriteStdin(r.Context(), body); err != nil {
		writeError(w, stdinStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, successBody{Message: fmt.Sprintf("wrote %d bytes", len(body))})
}

func (h *processHandlers) closeStdin(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	if err := p.CloseStdin(); err != nil {
		writeError(w, stdinStatus(err), err.Error())
		return
	}
	writeJSON(w, http.StatusOK, successBody{Message: "stdin closed"})
}

func stdinStatus(err error) int {
	switch {
	case errors.Is(err, process.ErrNoStdin), errors.Is(err, process.ErrStdinClosed):
		return http.StatusConflict
	case errors.Is(err, process.ErrStdinBlocked):
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}

// successBody is the contract's SuccessResponse.
type successBody struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}
