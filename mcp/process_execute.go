package mcp

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// DefaultWait bounds processExecute's waits (for ports and for completion)
// when no timeout is given: an agent's tool call should not hang on a
// command that never ends, and the process keeps running after. ExecuteIn's
// timeout description says "default 60": keep the two together.
const DefaultWait = 60 * time.Second

// ExecuteIn are processExecute's arguments: the existing daemon's names.
// A new argument goes here and in request below; the domain side is
// process.Spec or process.ExecuteRequest.
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

// request maps the arguments to the domain's request, with this door's
// waits: DefaultWait for both. Stdin is not offered: no tool writes to it.
func (in *ExecuteIn) request() (process.ExecuteRequest, error) {
	req := process.ExecuteRequest{
		Spec: process.Spec{
			Command:          in.Command,
			Name:             in.Name,
			WorkingDir:       in.WorkingDir,
			Env:              in.Env,
			KeepAlive:        in.KeepAlive,
			RestartOnFailure: in.RestartOnFailure,
			MaxRestarts:      in.MaxRestarts,
		},
		WaitForPorts:      in.WaitForPorts,
		WaitForCompletion: in.WaitForCompletion,
		Waits:             process.Waits{Ports: DefaultWait, Completion: DefaultWait},
	}
	if in.Timeout != nil {
		d, err := process.TimeoutSeconds(*in.Timeout)
		if err != nil {
			return process.ExecuteRequest{}, err
		}
		req.Timeout = &d
	}
	return req, nil
}

// execute is processExecute: process.Manager.Execute, its answer the
// record, with the output when it was waited for. A wait that gives up
// says which tools reach the process that keeps running.
func (t *tools) execute(ctx context.Context, in ExecuteIn) (ProcessInfo, error) {
	req, err := in.request()
	if err != nil {
		return ProcessInfo{}, err
	}
	p, err := t.svc.Processes.Execute(ctx, req)
	switch {
	case p == nil:
		return ProcessInfo{}, err
	case errors.Is(err, process.ErrWaitTimeout):
		return ProcessInfo{}, fmt.Errorf("process %s still running (%w); read it with processGetLogs or stop it with processStop", p.Name(), err)
	case err != nil: // the ports did not open
		return ProcessInfo{}, fmt.Errorf("process %s: %w", p.Name(), err)
	}
	out := infoOf(p)
	if req.WaitForCompletion {
		out.Logs, out.Note, err = tailLogs(p, process.Both)
	}
	return out, err
}
