package mcp

import (
	"fmt"

	"github.com/sandbox-api/sandbox-api/process"
)

// MaxLogBytes bounds the output a process tool returns: the last 64 KiB of
// each stream, where the error an agent needs usually is.
const MaxLogBytes = 64 << 10

// LogsOut is processGetLogs's answer.
type LogsOut struct {
	Logs   string `json:"logs" jsonschema:"stdout and stderr interleaved"`
	Stdout string `json:"stdout" jsonschema:"stdout only"`
	Stderr string `json:"stderr" jsonschema:"stderr only"`
	Note   string `json:"note,omitempty" jsonschema:"a remark, e.g. that the logs were cut"`
}

// tailLogs returns the last MaxLogBytes of a stream, and a note when that
// is not all of it. The note names no other way to the rest: an agent
// has only these tools.
func tailLogs(p *process.Process, s process.Stream) (string, string, error) {
	b, cut, err := p.Log().Tail(s, MaxLogBytes)
	if err != nil {
		return "", "", err
	}
	note := ""
	if cut {
		note = fmt.Sprintf("output cut to its last %d bytes; to read all of it, run the command with its output redirected to a file and read that with fsReadFile", MaxLogBytes)
	}
	return string(b), note, nil
}

// logs is processGetLogs: the tail of each stream of a process.
func (t *tools) logs(identifier string) (LogsOut, error) {
	p, err := t.svc.Processes.Get(identifier)
	if err != nil {
		return LogsOut{}, fmt.Errorf("%s: %w", identifier, err)
	}
	var out LogsOut
	var n1, n2, n3 string
	if out.Logs, n1, err = tailLogs(p, process.Both); err != nil {
		return LogsOut{}, err
	}
	if out.Stdout, n2, err = tailLogs(p, process.Stdout); err != nil {
		return LogsOut{}, err
	}
	if out.Stderr, n3, err = tailLogs(p, process.Stderr); err != nil {
		return LogsOut{}, err
	}
	out.Note = firstNonEmpty(n1, n2, n3)
	return out, nil
}

// firstNonEmpty is the first of s that is not "": the notes of the three
// streams say the same thing, once is enough.
func firstNonEmpty(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}
