package server

// Answers for the routes of the wire contract that drive Blaxel's own
// infrastructure (its drive filer, guest metadata, network tunnel,
// release downloads, codegen models). A standalone daemon has none of it:
// these routes answer honestly (an empty list, 501 with the reason, the
// existing daemon's "not configured") rather than with a 404 that would
// read as a typo in the client. routes.go lists them.

import "net/http"

// notImplemented answers 501, naming what belongs to the platform.
func notImplemented(what string) http.HandlerFunc {
	msg := what + " belongs to the Blaxel platform and is not implemented by this daemon"
	return func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotImplemented, msg)
	}
}

// drivesJSON answers GET /drives/mount. This daemon mounts no drives, so
// the honest list is empty: the SDK's drives.list() then gets [] instead of
// an error (mounting stays a 501).
type drivesJSON struct {
	Mounts []struct{} `json:"mounts"`
}

func listDrives(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, drivesJSON{Mounts: []struct{}{}})
}

// codegenNotConfigured is the existing daemon's error text for the
// codegen routes without an LLM provider; clients match on it. This daemon
// has no provider to configure, so these routes always give it, with the
// contract's 503 where the existing daemon says 400.
const codegenNotConfigured = "codegen tools are not configured, follow this documentation to configure it: https://docs.blaxel.ai/Sandboxes/Codegen"

// codegenUnavailable answers the codegen routes.
func codegenUnavailable(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusServiceUnavailable, codegenNotConfigured)
}
