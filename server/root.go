package server

import "net/http"

// rootJSON answers GET / with the fields of the existing daemon's welcome
// (message, documentation, description), so a client that checks them
// finds them, plus which daemon this is.
type rootJSON struct {
	Message       string `json:"message"`
	Documentation string `json:"documentation"`
	Description   string `json:"description"`
	Name          string `json:"name"`
	Version       string `json:"version"`
}

// rootName names this daemon in GET /.
const rootName = "sandbox-api"

// rootHandler answers GET / with the welcome, built once.
func rootHandler(version string) http.HandlerFunc {
	body := rootJSON{
		Message: "sandbox-api is serving this sandbox",
		// The API this daemon serves is the one Blaxel documents for its SDKs.
		Documentation: "https://docs.blaxel.ai/Sandboxes/Overview",
		Description: "A standalone daemon serving the Blaxel sandbox API: run and watch processes, " +
			"read, write, search and watch files, list listening ports, open a web terminal (/terminal) " +
			"and drive it all from an AI agent over MCP (/mcp). GET /health tells its build and uptime.",
		Name:    rootName,
		Version: version,
	}
	return func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, body)
	}
}
