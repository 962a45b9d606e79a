package mcp

import (
	"context"
	"fmt"
	"syscall"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"
)

// ListProcessesOut is processesList's answer.
type ListProcessesOut struct {
	Processes []ProcessInfo `json:"processes" jsonschema:"all known processes"`
}

// IdentifierIn names one process.
type IdentifierIn struct {
	Identifier string `json:"identifier" jsonschema:"process name or pid"`
}

// registerProcess adds the process tools. The larger ones have their own
// file (process_execute.go, process_logs.go); lookups, stop and kill are a
// few lines each, here. Every one calls the process manager the HTTP API
// shares, so both see the same processes.
func (t *tools) registerProcess(s *sdk.Server) {
	m := t.svc.Processes
	addTool(s, &sdk.Tool{Name: "processesList", Description: "List every process started in the sandbox, running or ended, with status and exit code."},
		func(ctx context.Context, _ *sdk.CallToolRequest, _ struct{}) (*sdk.CallToolResult, ListProcessesOut, error) {
			out := ListProcessesOut{Processes: []ProcessInfo{}}
			for _, p := range m.List() {
				out.Processes = append(out.Processes, infoOf(p))
			}
			return nil, out, nil
		})
	addTool(s, &sdk.Tool{Name: "processExecute", Description: "Run a shell command in the sandbox. With waitForCompletion the reply holds its exit code and output; otherwise it keeps running in the background (read it with processGetLogs). waitForPorts waits until the given ports listen (for servers)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in ExecuteIn) (*sdk.CallToolResult, ProcessInfo, error) {
			out, err := t.execute(ctx, in)
			return nil, out, err
		})
	addTool(s, &sdk.Tool{Name: "processGet", Description: "Get the status, exit code and times of a process by name or pid."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
	addTool(s, &sdk.Tool{Name: "processGetLogs", Description: fmt.Sprintf("Get the output of a process by name or pid (the last %d bytes of each stream).", MaxLogBytes)},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, LogsOut, error) {
			out, err := t.logs(in.Identifier)
			return nil, out, err
		})
	addTool(s, &sdk.Tool{Name: "processStop", Description: "Stop a running process gracefully (SIGTERM, then SIGKILL after a grace period)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			if err := p.Stop(ctx); err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
	addTool(s, &sdk.Tool{Name: "processKill", Description: "Kill a running process immediately (SIGKILL)."},
		func(ctx context.Context, _ *sdk.CallToolRequest, in IdentifierIn) (*sdk.CallToolResult, ProcessInfo, error) {
			p, err := m.Get(in.Identifier)
			if err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			if err := p.Kill(ctx, syscall.SIGKILL); err != nil {
				return nil, ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
			}
			return nil, infoOf(p), nil
		})
}
