package server

import (
	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/mcp"
)

// mcpPath is where the Model Context Protocol endpoint is served.
const mcpPath = "/mcp"

// registerMCPRoutes mounts the MCP endpoint (streamable HTTP, stateless,
// JSON replies) unless it is disabled. It sits behind the full middleware
// stack, so the optional bearer token covers it.
func registerMCPRoutes(r chi.Router, opts Options, svc Services) {
	if svc.MCPDisabled {
		return
	}
	r.Handle(mcpPath, mcp.Handler(mcp.Services{Processes: svc.Processes, Files: svc.Files, Version: opts.Version}))
}
