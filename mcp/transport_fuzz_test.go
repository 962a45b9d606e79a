package mcp

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzHandler: any body with any of the headers that matter gets a
// well-formed HTTP answer, never a panic. The tools' schemas and argument
// checks are the real ones; their handlers are stubbed, so a fuzzed
// processExecute runs nothing.
func FuzzHandler(f *testing.F) {
	for _, c := range append(protocolCases(), toolCases()...) {
		if len(c.body) < 4096 {
			f.Add(c.body, c.method, c.headers["Mcp-Protocol-Version"], c.headers["Mcp-Method"], c.headers["Mcp-Name"], !c.noDefaults)
		}
	}
	reg := newRegistry((&tools{}).all())
	for _, r := range reg.byName {
		r.run = func(context.Context, []byte) (any, error) { return map[string]bool{"ok": true}, nil }
	}
	h := &transport{server: serverInfo{Name: ServerName, Version: "fuzz"}, tools: reg}
	f.Fuzz(func(t *testing.T, body, method, version, mcpMethod, mcpName string, defaults bool) {
		if method == "" {
			method = "POST"
		}
		if strings.ContainsAny(method, " \t\r\n()<>@,;:\\\"/[]?={}") {
			return // not an HTTP method: no request reaches the handler
		}
		r := httptest.NewRequest("POST", "/mcp", strings.NewReader(body))
		r.Method = method
		if defaults {
			r.Header.Set("Content-Type", "application/json")
			r.Header.Set("Accept", accept)
		}
		for k, v := range map[string]string{"Mcp-Protocol-Version": version, "Mcp-Method": mcpMethod, "Mcp-Name": mcpName} {
			if v != "" {
				r.Header.Set(k, v)
			}
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		switch w.Code {
		case http.StatusOK, http.StatusAccepted, http.StatusBadRequest, http.StatusNotFound,
			http.StatusMethodNotAllowed, http.StatusRequestEntityTooLarge, http.StatusUnsupportedMediaType:
		default:
			t.Fatalf("status %d for %q", w.Code, body)
		}
		ct := w.Header().Get("Content-Type")
		switch {
		case w.Code == http.StatusAccepted:
			if w.Body.Len() != 0 {
				t.Fatalf("202 with a body %q", w.Body)
			}
		case ct == "application/json":
			if !json.Valid(w.Body.Bytes()) {
				t.Fatalf("invalid JSON answer %q for %q", w.Body, body)
			}
		case strings.HasPrefix(ct, "text/plain"):
			if w.Code < 400 {
				t.Fatalf("text answer with status %d", w.Code)
			}
		default:
			t.Fatalf("Content-Type %q for %q", ct, body)
		}
	})
}
