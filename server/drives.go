package server

import (
	"net/http"

	"github.com/go-chi/chi/v5"
)

// drivesJSON answers GET /drives/mount. This daemon mounts no drives, so
// the honest list is empty: the SDK's drives.list() then gets [] instead of
// an error (mounting stays a 501, see unsupported.go).
type drivesJSON struct {
	Mounts []struct{} `json:"mounts"`
}

func registerDriveRoutes(r chi.Router) {
	r.Get("/drives/mount", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, drivesJSON{Mounts: []struct{}{}})
	})
}
