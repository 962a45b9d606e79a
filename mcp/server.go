// Package mcp serves the sandbox as Model Context Protocol tools, so an AI
// agent can drive it without an SDK. The tools call the process and
// filesystem packages directly, the same domain the HTTP API calls: a
// process started here is listed there too, and the other way round. The
// texts the tools send never name the HTTP routes: an agent has only the
// tools.
//
// The tool names and argument names are those of the existing Blaxel
// daemon, which agents have been tuned on. Every answer is bounded (logs,
// file reads, searches, listings), cut with a note that says how to get the
// rest, because an agent's context is small and a tool result that floods
// it is worse than a short one.
package mcp

import (
	"net/http"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/process"
)

// ServerName is the serverInfo.name the initialize answer gives: the
// existing daemon's, which clients may show or check.
const ServerName = "Sandbox API Server"

// Services are the domain objects the tools call.
type Services struct {
	Processes *process.Manager
	Files     *filesystem.FS
	// Version is reported as serverInfo.version ("dev" when empty).
	Version string
}

// Handler returns the streamable HTTP handler (stateless, JSON replies).
// The SDK's DNS-rebinding guard is off: the platform's proxy may reach the
// daemon on a loopback address with the sandbox's public Host, and /mcp is
// guarded like every other route (the optional token), no more, no less.
func Handler(svc Services) http.Handler {
	s := NewServer(svc)
	return sdk.NewStreamableHTTPHandler(func(*http.Request) *sdk.Server { return s },
		&sdk.StreamableHTTPOptions{Stateless: true, JSONResponse: true, DisableLocalhostProtection: true})
}

// NewServer returns an MCP server with every tool registered.
func NewServer(svc Services) *sdk.Server {
	v := svc.Version
	if v == "" {
		v = "dev"
	}
	s := sdk.NewServer(&sdk.Implementation{Name: ServerName, Version: v}, nil)
	t := &tools{svc: svc}
	t.registerProcess(s)
	t.registerFiles(s)
	t.registerCode(s)
	return s
}

// tools holds what every tool handler needs.
type tools struct{ svc Services }
