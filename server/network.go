package server

// TEMPORARY stub: replaced by the /network handlers.

import (
	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/network"
)

type networkHandlers struct {
	net  *network.Service
	opts Options
}

func registerNetworkRoutes(r chi.Router, h *networkHandlers) {}
