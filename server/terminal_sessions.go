package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/terminal"
)

// terminalHandlers serve the /terminal routes: the page
// (terminal_page.go), the websocket that attaches to a session
// (terminal_ws.go), and the list and end of sessions here.
type terminalHandlers struct {
	terms    *terminal.Manager
	opts     Options
	streams  *streamLimit  // websockets
	browsers *browserGuard // who may frame the page
}

// list is GET /terminal/sessions.
func (h *terminalHandlers) list(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.terms.List())
}

// closeSession is DELETE /terminal/sessions/{id}: the shell is ended and
// its clients disconnected.
func (h *terminalHandlers) closeSession(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "id")
	if err := h.terms.CloseSession(id); err != nil {
		writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"message": "terminal session closed", "id": id})
}
