package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// codegenNotConfigured is the existing daemon's error text for the codegen
// routes without an LLM provider; clients match on it. This daemon has no
// provider to configure, so these routes always give it, with the
// contract's 503 where the existing daemon says 400.
const codegenNotConfigured = "codegen tools are not configured, follow this documentation to configure it: https://docs.blaxel.ai/Sandboxes/Codegen"

func registerCodegenRoutes(r chi.Router) {
	notConfigured := func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusServiceUnavailable, codegenNotConfigured)
	}
	r.Put("/codegen/fastapply/*", notConfigured)
	r.Get("/codegen/reranking/*", notConfigured)
}
