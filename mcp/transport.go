package mcp

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"
)

// MaxBodyBytes bounds a POST body, as the SDK's default did: a larger one
// is refused with 413 while it is read, whatever its Content-Length.
const MaxBodyBytes = 4 << 20

// Protocol versions, newest first. The 2026-07-28 one is per request
// (no initialize; each call carries its version in _meta and in the
// Mcp-Protocol-Version header); the others are negotiated by initialize.
const (
	version20260728 = "2026-07-28"
	version20251125 = "2025-11-25"
	version20250618 = "2025-06-18"
	version20250326 = "2025-03-26"
)

var supportedVersions = []string{version20260728, version20251125, version20250618, version20250326, "2024-11-05"}

// Headers of the streamable HTTP transport.
const (
	headerProtocolVersion = "Mcp-Protocol-Version"
	headerMethod          = "Mcp-Method"
	headerName            = "Mcp-Name"
	metaProtocolVersion   = "io.modelcontextprotocol/protocolVersion"
)

// transport serves MCP's streamable HTTP transport the way the daemon
// configured the SDK: stateless (no Mcp-Session-Id, no GET stream, no
// DELETE), every answer a JSON body, never an event stream.
type transport struct {
	server serverInfo
	tools  *registry
}

// plainError answers as http.Error does: the SDK's transport errors are
// text; server/mcp.go turns them into the API's JSON errors.
func plainError(w http.ResponseWriter, msg string, code int) {
	http.Error(w, msg, code)
}

// rpcErrorAnswer answers a JSON-RPC error with an HTTP status, for the
// errors found before any method runs.
func rpcErrorAnswer(w http.ResponseWriter, status int, id any, e *rpcError) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(encodeResponse(id, nil, e))
}

func (t *transport) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
	}
	pv := r.Header.Get(headerProtocolVersion)
	if pv != "" && !slices.Contains(supportedVersions, pv) && pv < version20260728 {
		plainError(w, fmt.Sprintf("Bad Request: Unsupported protocol version (supported versions: %s)", strings.Join(supportedVersions, ",")), http.StatusBadRequest)
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		plainError(w, "Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		plainError(w, "Content-Type must be 'application/json'", http.StatusUnsupportedMediaType)
		return
	}
	if !acceptsBoth(r.Header.Values("Accept")) {
		plainError(w, "Accept must contain both 'application/json' and 'text/event-stream'", http.StatusBadRequest)
		return
	}
	body, err := readBody(r)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			plainError(w, fmt.Sprintf("request body exceeds %d bytes", mbe.Limit), http.StatusRequestEntityTooLarge)
			return
		}
		plainError(w, "failed to read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	if len(r.Header.Values("Last-Event-ID")) > 0 {
		plainError(w, "can't send Last-Event-ID for POST request", http.StatusBadRequest)
		return
	}
	if len(body) == 0 {
		plainError(w, "POST requires a non-empty body", http.StatusBadRequest)
		return
	}
	msgs, batch, err := decodeBody(body)
	if err != nil {
		plainError(w, "malformed payload: "+err.Error(), http.StatusBadRequest)
		return
	}
	version := pv
	if version == "" {
		version = version20250326
	}
	if batch && version >= version20250618 {
		plainError(w, fmt.Sprintf("JSON-RPC batching is not supported in %s and later (request version: %s)", version20250618, version), http.StatusBadRequest)
		return
	}
	if !t.admit(w, r, msgs, batch, version) {
		return
	}
	t.answer(w, r.Context(), msgs, batch, version)
}

// readBody reads the whole (bounded) body.
func readBody(r *http.Request) ([]byte, error) {
	if r.Body == nil {
		return nil, nil
	}
	defer r.Body.Close()
	return io.ReadAll(r.Body)
}

// acceptsBoth tells whether the Accept headers take both JSON and an
// event stream, as the transport requires of every POST.
func acceptsBoth(values []string) bool {
	jsonOK, streamOK := false, false
	for _, v := range values {
		for _, token := range strings.Split(v, ",") {
			base, _, _ := strings.Cut(strings.TrimSpace(token), ";")
			switch strings.ToLower(strings.TrimSpace(base)) {
			case "application/json", "application/*":
				jsonOK = true
			case "text/event-stream", "text/*":
				streamOK = true
			case "*/*":
				jsonOK, streamOK = true, true
			}
		}
	}
	return jsonOK && streamOK
}

// admit checks every request before any runs, as the SDK does, so a bad
// one fails the whole POST: the method is known, ids are where they
// belong, params are there when required, and the per-request protocol
// version and Mcp-* headers agree with the body. It answers and returns
// false on the first failure.
func (t *transport) admit(w http.ResponseWriter, r *http.Request, msgs []message, batch bool, version string) bool {
	for i := range msgs {
		m := &msgs[i]
		if !m.isRequest {
			continue
		}
		if err := checkRequest(m); err != nil {
			if version >= version20260728 && errors.Is(err, errNotHandled) && m.isCall() {
				rpcErrorAnswer(w, http.StatusNotFound, m.id, &rpcError{Code: codeMethodNotFound, Message: err.Error()})
				return false
			}
			plainError(w, err.Error(), http.StatusBadRequest)
			return false
		}
		meta := m.meta
		if (m.isCall() && version >= version20260728) || meta != "" {
			header := r.Header.Get(headerProtocolVersion)
			var e *rpcError
			switch {
			case header == "":
				e = &rpcError{Code: codeHeaderMismatch, Message: fmt.Sprintf("%s header is required for requests carrying %q", headerProtocolVersion, metaProtocolVersion)}
			case meta == "":
				e = &rpcError{Code: codeInvalidParams, Message: fmt.Sprintf("missing or invalid _meta field %q", metaProtocolVersion)}
			case header != meta:
				e = &rpcError{Code: codeHeaderMismatch, Message: fmt.Sprintf("%s header %q does not match request %s %q", headerProtocolVersion, header, metaProtocolVersion, meta)}
			}
			if e != nil {
				rpcErrorAnswer(w, http.StatusBadRequest, m.id, e)
				return false
			}
		}
	}
	if !batch && len(msgs) == 1 {
		if err := checkMethodHeaders(r.Header, &msgs[0]); err != nil {
			var id any
			if msgs[0].isRequest {
				id = msgs[0].id
			}
			rpcErrorAnswer(w, http.StatusBadRequest, id, &rpcError{Code: codeHeaderMismatch, Message: err.Error()})
			return false
		}
	}
	return true
}

// metaVersion is params._meta's protocol version, if any.
func metaVersion(params json.RawMessage) string {
	var p struct {
		Meta map[string]any `json:"_meta"`
	}
	if isNull(params) || json.Unmarshal(params, &p) != nil {
		return ""
	}
	v, _ := p.Meta[metaProtocolVersion].(string)
	return v
}

// checkMethodHeaders checks the Mcp-Method and Mcp-Name headers the
// 2026-07-28 protocol requires, against the body.
func checkMethodHeaders(h http.Header, m *message) error {
	if v := h.Get(headerProtocolVersion); v == "" || v < version20260728 || !m.isRequest {
		return nil
	}
	method := h.Get(headerMethod)
	if method == "" {
		return errors.New("missing required Mcp-Method header")
	}
	if method != m.method {
		return fmt.Errorf("header mismatch: Mcp-Method header value '%s' does not match body value '%s'", method, m.method)
	}
	if m.method != "tools/call" && m.method != "resources/read" && m.method != "prompts/get" {
		return nil
	}
	name := h.Get(headerName)
	if name == "" {
		return fmt.Errorf("missing required Mcp-Name header for method %q", m.method)
	}
	body, decoded, ok := nameOf(m.method, m.params)
	m.decoded = decoded
	if !ok {
		return fmt.Errorf("failed to extract name from parameters for method %q", m.method)
	}
	if name != body {
		return fmt.Errorf("header mismatch: Mcp-Name header value '%s' does not match body value '%s'", name, body)
	}
	return nil
}

// nameOf is what Mcp-Name must equal: the tool or prompt name, or the
// resource URI ("" when the params have none), and the params decoded
// (paramsOf) for dispatch. It fails, as with the SDK, only when the params
// do not decode.
func nameOf(method string, params json.RawMessage) (string, any, bool) {
	p, _ := paramsOf(method)
	if json.Unmarshal(params, p) != nil {
		return "", nil, false
	}
	switch p := p.(type) {
	case *callParams:
		return p.Name, p, true
	case *nameParams:
		return p.Name, p, true
	case *uriParams:
		return p.URI, p, true
	}
	return "", nil, false
}

// answer runs the requests and writes their responses: 202 and no body
// when there is no call; else one response, or an array for a batch.
// Each response is written as soon as it is made, so a batch of many
// calls never holds all their results at once. With the 2026-07-28
// protocol (never batched) an error gets the HTTP status that protocol
// gives its code.
func (t *transport) answer(w http.ResponseWriter, ctx context.Context, msgs []message, batch bool, version string) {
	calls := 0
	for i := range msgs {
		if msgs[i].isRequest && msgs[i].isCall() {
			calls++
		}
	}
	if calls == 0 {
		w.WriteHeader(http.StatusAccepted)
		return
	}
	w.Header().Set("Cache-Control", "no-cache, no-transform")
	w.Header().Set("Content-Type", "application/json")
	written := 0
	for i := range msgs {
		m := &msgs[i]
		if !m.isRequest || !m.isCall() {
			continue
		}
		if ctx.Err() != nil {
			return // the client left: the rest of a batch would run for nobody
		}
		result, rerr := t.dispatch(ctx, m)
		b := encodeResponse(m.id, result, rerr)
		if !batch {
			if status := errorStatus(version, rerr); status != 0 {
				w.WriteHeader(status)
			}
			_, _ = w.Write(b)
			return
		}
		sep := ","
		if written == 0 {
			sep = "["
		}
		_, _ = io.WriteString(w, sep)
		_, _ = w.Write(b)
		written++
	}
	_, _ = w.Write([]byte("]"))
}

// errorStatus is the HTTP status the 2026-07-28 protocol gives an error
// response; 0 keeps 200.
func errorStatus(version string, e *rpcError) int {
	if version < version20260728 || e == nil {
		return 0
	}
	switch e.Code {
	case codeMethodNotFound:
		return http.StatusNotFound
	case codeInvalidParams, codeUnsupportedProtocolVersion:
		return http.StatusBadRequest
	}
	return 0
}
