package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// platformRoutes are the routes of the wire contract that drive Blaxel's
// own infrastructure (its drive filer, guest metadata, network tunnel,
// release downloads). A standalone daemon has none of it, so they answer
// 501 with the reason rather than a 404 that would read as a typo in the
// client. Listing drives and the codegen routes answer otherwise (see
// drives.go and codegen.go).
var platformRoutes = []struct{ method, pattern, what string }{
	{http.MethodPost, "/drives/mount", "drive mounts (blfs)"},
	{http.MethodDelete, "/drives/mount/*", "drive mounts (blfs)"},
	{http.MethodPost, "/environment/reload", "the environment reload from /bl/metadata"},
	{http.MethodDelete, "/network/tunnel", "the network tunnel"},
	{http.MethodPut, "/network/tunnel/config", "the network tunnel"},
	{http.MethodPost, "/upgrade", "self-upgrade from release downloads"},
}

func registerPlatformRoutes(r chi.Router) {
	for _, p := range platformRoutes {
		msg := p.what + " belongs to the Blaxel platform and is not implemented by this daemon"
		r.Method(p.method, p.pattern, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotImplemented, msg)
		}))
	}
	registerDriveRoutes(r)
	registerCodegenRoutes(r)
}
