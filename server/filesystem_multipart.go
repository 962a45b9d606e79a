package server

// TEMPORARY stub: replaced by the real handlers.

import "github.com/go-chi/chi/v5"

func registerMultipartRoutes(r chi.Router, h *filesystemHandlers) {}
