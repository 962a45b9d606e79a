package server

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"syscall"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/process"
)

type processHandlers struct {
	m       *process.Manager
	opts    Options
	streams *streamLimit
}

// The existing Blaxel daemon words an unknown process three ways,
// depending on the route; clients match on these texts, so each route keeps
// its own.
func notFoundPlain(string) string { return "process not found" }

func notFoundPID(id string) string { return fmt.Sprintf("process with PID %s not found", id) }

func notFoundIdentifier(id string) string {
	return fmt.Sprintf("process with Identifier %s not found", id)
}

// lookup finds the process named in the path, or answers 404 with the
// route's wording.
func (h *processHandlers) lookup(w http.ResponseWriter, r *http.Request, notFound func(id string) string) (*process.Process, bool) {
	id, err := url.PathUnescape(chi.URLParam(r, "identifier"))
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid process identifier")
		return nil, false
	}
	p, err := h.m.Get(id)
	if err != nil {
		writeError(w, http.StatusNotFound, notFound(id))
		return nil, false
	}
	return p, true
}

// specMessage words a request the process manager refused as a problem of
// the request body.
func specMessage(err error) string {
	var se *process.SpecError
	if errors.As(err, &se) {
		return invalidBody + se.Problem
	}
	return err.Error()
}

// writeStartError answers a start that Manager.Start refused, with the
// table's status (statuses.go).
func writeStartError(w http.ResponseWriter, err error) {
	writeError(w, statusOf(err), specMessage(err))
}

// waitFailed answers a wait that ended without what was waited for. The
// process itself keeps running.
func (h *processHandlers) waitFailed(w http.ResponseWriter, err error) {
	switch {
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return // the client left
	case errors.Is(err, process.ErrInvalidSpec):
		writeError(w, http.StatusBadRequest, specMessage(err))
	case errors.Is(err, process.ErrWaitTimeout):
		// "process timed out after N seconds", the existing daemon's text;
		// that the process keeps running is documented instead.
		writeError(w, http.StatusUnprocessableEntity, err.Error())
	default:
		writeError(w, http.StatusUnprocessableEntity, err.Error()+"; the process keeps running")
	}
}

// writeProcess answers one ProcessResponse, its output streamed from out.
func writeProcess(w http.ResponseWriter, status int, info process.Info, message string, out outputSource) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// An answer's members and short outputs are gathered here; larger
	// output goes through in the string writer's pieces. A 4 KiB buffer
	// took 1.5 µs of an exec's answer to make, timed in place
	// (docs/measured.md); most answers are under 512 bytes.
	bw := bufio.NewWriterSize(w, 512)
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
	p, ok := h.lookup(w, r, notFoundPlain)
	if !ok {
		return
	}
	writeProcess(w, http.StatusOK, p.Info(), "", tailOutput(p, tailBytesOne))
}

// Stop and kill answer the record (as GET does) plus a message; these
// messages are the existing daemon's, which clients match on.
const (
	msgStopped      = "Process stopped successfully"
	msgKilled       = "Process killed successfully"
	msgAlreadyEnded = "process had already ended"
)

func (h *processHandlers) stop(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r, notFoundIdentifier)
	if !ok {
		return
	}
	if isEnded(p) {
		writeProcess(w, http.StatusOK, p.Info(), msgAlreadyEnded, tailOutput(p, tailBytesOne))
		return
	}
	if err := p.Stop(r.Context()); err != nil {
		return // the client left; the stop goes on
	}
	writeProcess(w, http.StatusOK, p.Info(), msgStopped, tailOutput(p, tailBytesOne))
}

type killRequest struct {
	Signal string `json:"signal"`
}

func (h *processHandlers) kill(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r, notFoundIdentifier)
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
			writeError(w, http.StatusBadRequest, invalidBody+err.Error())
			return
		}
		sig = s
	}
	if isEnded(p) {
		writeProcess(w, http.StatusOK, p.Info(), msgAlreadyEnded, tailOutput(p, tailBytesOne))
		return
	}
	err := p.Kill(r.Context(), sig)
	switch {
	case err == nil:
		writeProcess(w, http.StatusOK, p.Info(), msgKilled, tailOutput(p, tailBytesOne))
	case errors.Is(err, process.ErrWaitTimeout):
		msg := fmt.Sprintf("signal %s sent; the process is still running", process.SignalName(sig))
		writeProcess(w, http.StatusOK, p.Info(), msg, tailOutput(p, tailBytesOne))
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
	p, ok := h.lookup(w, r, notFoundPID)
	if !ok {
		return
	}
	out := fullOutput(p, r)
	w.Header().Set("Content-Type", "application/json")
	bw := bufio.NewWriterSize(w, 4<<10) // larger output goes through in the string writer's pieces
	for i, f := range logsAnswerFields {
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
	p, ok := h.lookup(w, r, notFoundIdentifier)
	if !ok {
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxStdinBody))
	if err != nil {
		msg := "read body: " + err.Error()
		var tooBig *http.MaxBytesError
		switch {
		case errors.As(err, &tooBig):
			msg = fmt.Sprintf("stdin body is larger than %d bytes", maxStdinBody)
		case bodyStalled(err):
			msg = err.Error()
		}
		writeError(w, requestBodies.statusOf(err), msg)
		return
	}
	if err := p.WriteStdin(r.Context(), body); err != nil {
		stdinRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successBody{Message: fmt.Sprintf("wrote %d bytes", len(body))})
}

func (h *processHandlers) closeStdin(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r, notFoundIdentifier)
	if !ok {
		return
	}
	if err := p.CloseStdin(); err != nil {
		stdinRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successBody{Message: "stdin closed"})
}

// successBody is the contract's SuccessResponse.
type successBody struct {
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}
