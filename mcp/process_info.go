package mcp

import (
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

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

// infoOf is p's record without its output (the tools that return output
// add it).
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
