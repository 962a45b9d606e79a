package mcp

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"syscall"
	"time"

	sdk "github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/sandbox-api/sandbox-api/process"
)

// MaxLogBytes bounds the output a process tool returns: the last 64 KiB of
// each stream, where the error an agent needs usually is.
const MaxLogBytes = 64 << 10

// defaultWait bounds processExecute's wait when no timeout is given: an
// agent's tool call should not hang on a command that never ends.
const defaultWait = 60 * time.Second

// ProcessInfo is a process as the tools report it.
type ProcessInfo struct {
	PID          string `json:"pid" jsonschema:"process id, usable as identifier"`
	Name         string `json:"name" jsonschema:"process name, usable as identifier"`
	Command      string `json:"command" jsonschema:"the shell command"`
	WorkingDir   string `json:"workingDir" jsonschema:"working directory"`
	Status       string `json:"status" jsonschema:"running, completed, failed, stopped or killed"`
	ExitCode     int    `json:"exitCode" jsonschema:"exit code (-1 when stopped or ended by a signal)"`
	StartedAt    string `json:"startedAt" jsonschema:"start time, RFC 3339"`
	CompletedAt  string `json:"completedAt,omitempty" jsonschema:"end time, RFC 3339; empty while running"`
	KeepAlive    bool   `json:"keepAlive" jsonschema:"true when the process was started with keepAlive"`
	RestartCount int    `json:"restartCount" jsonschema:"restarts so far"`
	Logs         string `json:"logs,omitempty" jsonschema:"output (stdout and stderr interleaved), when waited for"`
	Note         string `json:"note,omitempty" jsonschema:"a remark, e.g. that the logs were cut"`
}

func infoOf(p *process.Process) ProcessInfo {
	i := p.Info()
	out := ProcessInfo{PID: i.PID, Name: i.Name, Command: i.Command, WorkingDir: i.WorkingDir,
		Status: string(i.Status), ExitCode: i.ExitCode, StartedAt: i.StartedAt.Format(time.RFC3339Nano),
		KeepAlive: i.KeepAlive, RestartCount: i.RestartCount}
	if !i.CompletedAt.IsZero() {
		out.CompletedAt = i.CompletedAt.Format(time.RFC3339Nano)
	}
	return out
}

// tailLogs returns the last MaxLogBytes of a stream, and a note when that
// is not all of it.
func tailLogs(p *process.Process, s process.Stream, identifier string) (string, string, error) {
	b, cut, err := p.Log().Tail(s, MaxLogBytes)
	if err != nil {
		return "", "", err
	}
	note := ""
	if cut {
		note = fmt.Sprintf("output cut to its last %d bytes; the full log is at GET /process/%s/logs/stream", MaxLogBytes, identifier)
	}
	return string(b), note, nil
}

// ListProcessesOut is processesList's answer.
type ListProcessesOut struct {
	Processes []ProcessInfo `json:"processes" jsonschema:"all known processes"`
}

// IdentifierIn names one process.
type IdentifierIn struct {
	Identifier string `json:"identifier" jsonschema:"process name or pid"`
}

// ExecuteIn are processExecute's arguments.
type ExecuteIn struct {
	Command           string            `json:"command" jsonschema:"shell command to run"`
	Name              string            `json:"name,omitempty" jsonschema:"unique name for the process (default: generated)"`
	WorkingDir        string            `json:"workingDir,omitempty" jsonschema:"working directory (default: the sandbox working directory)"`
	Env               map[string]string `json:"env,omitempty" jsonschema:"environment variables added to the daemon's"`
	WaitForCompletion bool              `json:"waitForCompletion,omitempty" jsonschema:"wait for the process to end and return its output"`
	Timeout           *int              `json:"timeout,omitempty" jsonschema:"seconds to wait for completion or ports (default 60; the process keeps running after); with keepAlive also the process's lifetime (default 600, 0 for none)"`
	WaitForPorts      []int             `json:"waitForPorts,omitempty" jsonschema:"TCP ports to wait for until they listen"`
	RestartOnFailure  bool              `json:"restartOnFailure,omitempty" jsonschema:"restart the process when it exits with an error"`
	MaxRestarts       int               `json:"maxRestarts,omitempty" jsonschema:"restart limit with restartOnFailure (0: the default)"`
	KeepAlive         bool              `json:"keepAlive,omitempty" jsonschema:"a long-lived process (a server): it is killed when its lifetime (timeout) runs out"`
}

// LogsOut is processGetLogs's answer.
type LogsOut struct {
	Logs   string `json:"logs" jsonschema:"stdout and stderr interleaved"`
	Stdout string `json:"stdout" jsonschema:"stdout only"`
	Stderr string `json:"stderr" jsonschema:"stderr only"`
	Note   string `json:"note,omitempty" jsonschema:"a remark, e.g. that the logs were cut"`
}

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

// execute starts a process and waits for what was asked. As over HTTP, a
// given timeout is also a keepAlive process's lifetime (the process
// package ignores it otherwise).
func (t *tools) execute(ctx context.Context, in ExecuteIn) (ProcessInfo, error) {
	if strings.TrimSpace(in.Command) == "" {
		return ProcessInfo{}, errors.New("command is required")
	}
	spec := process.Spec{Command: in.Command, Name: in.Name, WorkingDir: in.WorkingDir, Env: in.Env,
		KeepAlive: in.KeepAlive, RestartOnFailure: in.RestartOnFailure, MaxRestarts: in.MaxRestarts}
	if in.WaitForPorts != nil {
		if err := process.ValidatePorts(in.WaitForPorts); err != nil {
			return ProcessInfo{}, err
		}
	}
	wait := defaultWait
	if in.Timeout != nil {
		d, err := process.TimeoutSeconds(*in.Timeout)
		if err != nil {
			return ProcessInfo{}, err
		}
		spec.Timeout = &d
		if d > 0 {
			wait = d
		}
	}
	p, err := t.svc.Processes.Start(spec)
	if err != nil {
		return ProcessInfo{}, err
	}
	if len(in.WaitForPorts) > 0 {
		if err := p.WaitForPorts(ctx, in.WaitForPorts, wait); err != nil {
			return ProcessInfo{}, fmt.Errorf("process %s: %w", p.Name(), err)
		}
	}
	if !in.WaitForCompletion {
		return infoOf(p), nil
	}
	if err := p.Wait(ctx, wait); err != nil {
		return ProcessInfo{}, fmt.Errorf("process %s still running (%w); read it with processGetLogs or stop it with processStop", p.Name(), err)
	}
	out := infoOf(p)
	out.Logs, out.Note, err = tailLogs(p, process.Both, p.Name())
	return out, err
}

// logs returns the tail of each stream of a process.
func (t *tools) logs(identifier string) (LogsOut, error) {
	p, err := t.svc.Processes.Get(identifier)
	if err != nil {
		return LogsOut{}, fmt.Errorf("%s: %w", identifier, err)
	}
	var out LogsOut
	var n1, n2, n3 string
	if out.Logs, n1, err = tailLogs(p, process.Both, identifier); err != nil {
		return LogsOut{}, err
	}
	if out.Stdout, n2, err = tailLogs(p, process.Stdout, identifier); err != nil {
		return LogsOut{}, err
	}
	if out.Stderr, n3, err = tailLogs(p, process.Stderr, identifier); err != nil {
		return LogsOut{}, err
	}
	out.Note = firstNonEmpty(n1, n2, n3)
	return out, nil
}

func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
