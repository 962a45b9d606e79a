package server

// TEMPORARY stub: replaced by the real handlers.

import "github.com/go-chi/chi/v5"

func registerSearchRoutes(r chi.Router, h *filesystemHandlers) {}
