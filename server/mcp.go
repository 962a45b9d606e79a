package server

import (
	"net/http"
	"strings"
	"sync"

	"github.com/sandbox-api/sandbox-api/mcp"
)

// mcpHandler serves the MCP endpoint (streamable HTTP, stateless, JSON
// replies), or is nil when it is disabled. It sits behind the full
// middleware stack, so the optional bearer token covers it. The MCP server
// is built on the first request (its tool schemas are parsed then), which
// most sandboxes, never asked for MCP, need not pay.
func mcpHandler(opts Options, svc Services) http.Handler {
	if svc.MCPDisabled {
		return nil
	}
	handler := sync.OnceValue(func() http.Handler {
		return mcp.Handler(mcp.Services{Processes: svc.Processes, Files: svc.Files, Version: opts.Version})
	})
	// Its tools include the searches, which want every processor
	// (bulkWork); one route cannot tell them from the rest.
	return mcpJSONErrors(bulkWork(opts, func(w http.ResponseWriter, r *http.Request) {
		handler().ServeHTTP(w, r)
	}))
}

// mcpJSONErrors turns the MCP transport's text/plain errors (wrong
// method, Accept or Content-Type, malformed payload, oversized body) into
// the API's {"error": "..."}. JSON answers, JSON-RPC errors included, pass
// through untouched.
func mcpJSONErrors(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ew := &mcpErrorWriter{ResponseWriter: w}
		next.ServeHTTP(ew, r)
		ew.finish()
	})
}

// maxMCPErrorText bounds the text of a held-back plain error: the
// transport's are one line, and whatever a handler writes after an error
// status is not held whole.
const maxMCPErrorText = 1024

// mcpErrorWriter holds back an error answer that is not JSON, and sends it
// as JSON once the handler is done.
type mcpErrorWriter struct {
	http.ResponseWriter
	status int // of a held-back plain error; 0 when none
	msg    []byte
}

func (e *mcpErrorWriter) WriteHeader(code int) {
	if e.status == 0 && code >= 400 && !strings.HasPrefix(e.Header().Get("Content-Type"), "application/json") {
		e.status = code
		return
	}
	e.ResponseWriter.WriteHeader(code)
}

func (e *mcpErrorWriter) Write(p []byte) (int, error) {
	if e.status != 0 {
		e.msg = append(e.msg, p[:min(len(p), maxMCPErrorText-len(e.msg))]...)
		return len(p), nil
	}
	return e.ResponseWriter.Write(p)
}

func (e *mcpErrorWriter) Flush() {
	if e.status == 0 {
		_ = http.NewResponseController(e.ResponseWriter).Flush()
	}
}

func (e *mcpErrorWriter) Unwrap() http.ResponseWriter { return e.ResponseWriter }

func (e *mcpErrorWriter) finish() {
	if e.status == 0 {
		return
	}
	msg := strings.TrimSpace(string(e.msg))
	if msg == "" {
		msg = http.StatusText(e.status)
	}
	e.Header().Del("X-Content-Type-Options")
	writeError(e.ResponseWriter, e.status, "mcp: "+msg)
}
