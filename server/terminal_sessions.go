package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/terminal"
)

type terminalHandlers struct {
	terms    *terminal.Manager
	opts     Options
	streams  *streamLimit  // websockets
	browsers *browserGuard // who may frame the page
}

func (h *terminalHandlers) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.terms.List())
}

func (h *terminalHandlers) closeSession(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := h.terms.CloseSession(id); err != nil {
		writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "terminal session closed", "id": id})
}
