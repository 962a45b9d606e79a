package server

import (
	"encoding/json"
	"net/http"
)

// errorBody is the one error shape of the whole API (ErrorResponse in the
// OpenAPI contract).
type errorBody struct {
	Error string `json:"error"`
}

// writeJSON encodes v as the response body with the given status. The value is
// encoded before any header is sent, so an encoding failure can still turn
// into a proper 500 instead of a half-written body.
func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := json.Marshal(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = json.Marshal(errorBody{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may be gone; nothing useful can be done about a failed write.
	_, _ = w.Write(append(body, '\n'))
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}
