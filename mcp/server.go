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
//
// The protocol is answered by hand (transport.go, jsonrpc.go, methods.go,
// tools_call.go, schema_check.go), not by the MCP SDK: the daemon uses a
// small part of it (tools only, over streamable HTTP, stateless, JSON
// replies), and linking it (with jsonschema-go, segmentio/encoding, gob,
// uritemplate, oauth2) cost 2.0 MB of the 12.1 MB binary, 1.7 MB of idle
// RSS (11.8 MB against 10.1 MB, BenchmarkIdleRSS) and start-up time
// (1.75x a minimal net/http server against 1.55x, BenchmarkStartup), at
// every start of every sandbox, most of which never serve MCP. The SDK is
// still the reference: the tests keep it as an oracle (oracle_test.go) and
// send the same raw requests to both handlers (differential_test.go); the
// tools' schemas are static (schemas.json), checked against what the SDK
// infers; cmd/sandbox-api/deps_test.go keeps it out of the binary.
package mcp

import (
	"net/http"

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

// version is serverInfo.version.
func version(svc Services) string {
	if svc.Version == "" {
		return "dev"
	}
	return svc.Version
}

// Handler returns the streamable HTTP handler (stateless, JSON replies).
// There is no DNS-rebinding guard: the platform's proxy may reach the
// daemon on a loopback address with the sandbox's public Host, and /mcp is
// guarded like every other route (the optional token), no more, no less.
func Handler(svc Services) http.Handler {
	return &transport{
		server: serverInfo{Name: ServerName, Version: version(svc)},
		tools:  newRegistry((&tools{svc: svc}).all()),
	}
}

// tools holds what every tool handler needs.
type tools struct{ svc Services }

// all is every tool, in the order tools/list gives them.
func (t *tools) all() []tool {
	return append(append(t.processTools(), t.fileTools()...), t.codeTools()...)
}
