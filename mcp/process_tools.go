package mcp

import (
	"context"
	"fmt"
	"syscall"
)

// ListProcessesOut is processesList's answer.
type ListProcessesOut struct {
	Processes []ProcessInfo `json:"processes" jsonschema:"all known processes"`
}

// IdentifierIn names one process.
type IdentifierIn struct {
	Identifier string `json:"identifier" jsonschema:"process name or pid"`
}

// processTools are the process tools. The larger ones have their own
// file (process_execute.go, process_logs.go); lookups, stop and kill are a
// few lines each, here. Every one calls the process manager the HTTP API
// shares, so both see the same processes.
func (t *tools) processTools() []tool {
	m := t.svc.Processes
	return []tool{
		newTool("processesList", "List every process started in the sandbox, running or ended, with status and exit code.",
			func(ctx context.Context, _ struct{}) (ListProcessesOut, error) {
				out := ListProcessesOut{Processes: []ProcessInfo{}}
				for _, p := range m.List() {
					out.Processes = append(out.Processes, infoOf(p))
				}
				return out, nil
			}),
		newTool("processExecute", "Run a shell command in the sandbox. With waitForCompletion the reply holds its exit code and output; otherwise it keeps running in the background (read it with processGetLogs). waitForPorts waits until the given ports listen (for servers).", t.execute),
		newTool("processGet", "Get the status, exit code and times of a process by name or pid.",
			func(ctx context.Context, in IdentifierIn) (ProcessInfo, error) {
				p, err := m.Get(in.Identifier)
				if err != nil {
					return ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
				}
				return infoOf(p), nil
			}),
		newTool("processGetLogs", fmt.Sprintf("Get the output of a process by name or pid (the last %d bytes of each stream).", MaxLogBytes),
			func(ctx context.Context, in IdentifierIn) (LogsOut, error) {
				return t.logs(in.Identifier)
			}),
		newTool("processStop", "Stop a running process gracefully (SIGTERM, then SIGKILL after a grace period).",
			func(ctx context.Context, in IdentifierIn) (ProcessInfo, error) {
				p, err := m.Get(in.Identifier)
				if err != nil {
					return ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
				}
				if err := p.Stop(ctx); err != nil {
					return ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
				}
				return infoOf(p), nil
			}),
		newTool("processKill", "Kill a running process immediately (SIGKILL).",
			func(ctx context.Context, in IdentifierIn) (ProcessInfo, error) {
				p, err := m.Get(in.Identifier)
				if err != nil {
					return ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
				}
				if err := p.Kill(ctx, syscall.SIGKILL); err != nil {
					return ProcessInfo{}, fmt.Errorf("%s: %w", in.Identifier, err)
				}
				return infoOf(p), nil
			}),
	}
}
