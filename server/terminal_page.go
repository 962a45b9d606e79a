package server

import (
	"io/fs"
	"mime"
	"net/http"
	"path"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/terminal/webui"
)

// page serves the browser terminal (or, in a build without the xterm.js
// files, how to bundle them). Only its own origin and --allowed-origins
// may frame it: a page of another site could otherwise overlay it and
// trick the user into typing into a root shell.
func (h *terminalHandlers) page(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Security-Policy", h.browsers.frameAncestors())
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = w.Write(webui.Page())
}

// asset serves one embedded xterm.js file.
func (h *terminalHandlers) asset(w http.ResponseWriter, r *http.Request) {
	name := chi.URLParam(r, "name")
	data, err := fs.ReadFile(webui.Assets(), name)
	if err != nil || path.Base(name) != name {
		writeError(w, http.StatusNotFound, "no such terminal asset: "+name)
		return
	}
	if ct := mime.TypeByExtension(path.Ext(name)); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	_, _ = w.Write(data)
}
