package server

import (
	"bytes"
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
	body, err := encodeJSON(v)
	if err != nil {
		status = http.StatusInternalServerError
		body, _ = encodeJSON(errorBody{Error: "encode response: " + err.Error()})
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	// The client may be gone; nothing useful can be done about a failed write.
	_, _ = w.Write(body)
}

// encodeJSON is json.Marshal plus a trailing newline, without HTML escaping:
// command lines and output full of <, > and & stay readable on the wire.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// writeError answers {"error": msg}.
func writeError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, errorBody{Error: msg})
}
