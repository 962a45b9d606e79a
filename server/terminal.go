package server

// TEMPORARY stub: replaced by the /terminal handlers.

import (
	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/terminal"
)

type terminalHandlers struct {
	terms *terminal.Manager
	opts  Options
}

func registerTerminalRoutes(r chi.Router, h *terminalHandlers) {}
