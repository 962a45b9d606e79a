package server

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// A ProcessResponse is written in the existing daemon's member order, with
// the output fields streamed between the two parts below: processHead,
// then logs, stdout and stderr, then processTail.
type processHead struct {
	PID         string `json:"pid"`
	Name        string `json:"name"`
	Command     string `json:"command"`
	Status      string `json:"status"`
	StartedAt   string `json:"startedAt"`
	CompletedAt string `json:"completedAt"`
	ExitCode    int    `json:"exitCode"`
	// WorkingDir echoes the request ("" for the default), as the existing
	// daemon does; the command ran in it resolved against the daemon's.
	WorkingDir string `json:"workingDir"`
}

type processTail struct {
	RestartOnFailure bool `json:"restartOnFailure"`
	MaxRestarts      int  `json:"maxRestarts"`
	RestartCount     int  `json:"restartCount"`
	KeepAlive        bool `json:"keepAlive"`
	Stdin            bool `json:"stdin"` // @blaxel/core's addition
	// Message is set on stop and kill answers, which the contract also
	// describes as a SuccessResponse.
	Message string `json:"message,omitempty"`
}

// wireTime is the RFC 1123 GMT form the API uses; "" for a zero time.
func wireTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(http.TimeFormat)
}

func headOf(info process.Info) processHead {
	return processHead{
		PID:         info.PID,
		Name:        info.Name,
		Command:     info.Command,
		Status:      string(info.Status),
		StartedAt:   wireTime(info.StartedAt),
		CompletedAt: wireTime(info.CompletedAt),
		ExitCode:    info.ExitCode,
		WorkingDir:  info.RequestedDir,
	}
}

func tailOf(info process.Info, message string) processTail {
	return processTail{
		RestartOnFailure: info.RestartOnFailure,
		MaxRestarts:      info.MaxRestarts,
		RestartCount:     info.RestartCount,
		KeepAlive:        info.KeepAlive,
		Stdin:            info.Stdin,
		Message:          message,
	}
}

// outputSource writes the output of the selected streams of a process.
type outputSource func(w io.Writer, streams process.Stream) error

// fullOutput is everything the log retains.
func fullOutput(p *process.Process, r *http.Request) outputSource {
	return func(w io.Writer, streams process.Stream) error {
		return p.Log().Copy(r.Context(), w, streams)
	}
}

// Inline output of GET /process and GET /process/{id} is a bounded tail;
// GET /process/{id}/logs has it all.
const (
	tailBytesOne  = 64 << 10
	tailBytesList = 4 << 10
)

func tailOutput(p *process.Process, max int) outputSource {
	return func(w io.Writer, streams process.Stream) error {
		tail, truncated, err := p.Log().Tail(streams, max)
		if err != nil {
			return err
		}
		if truncated {
			notice := fmt.Sprintf("[sandbox-api: earlier output omitted; GET /process/%s/logs returns all of it]\n", p.PID())
			if _, err := io.WriteString(w, notice); err != nil {
				return err
			}
		}
		_, err = w.Write(tail)
		return err
	}
}

// outputFields are the output members of ProcessResponse and ProcessLogs.
var outputFields = []struct {
	key     string
	streams process.Stream
}{{"logs", process.Both}, {"stdout", process.Stdout}, {"stderr", process.Stderr}}

// logsAnswerFields are ProcessLogs' members in the existing daemon's order,
// which differs from ProcessResponse's.
var logsAnswerFields = []struct {
	key     string
	streams process.Stream
}{{"stdout", process.Stdout}, {"stderr", process.Stderr}, {"logs", process.Both}}

// writeProcessJSON writes a ProcessResponse, its output fields streamed
// from out. A nil out is a process started without waitForCompletion:
// "logs": null, "stdout": "", "stderr": "", as the existing daemon answers
// (its output is read with GET /process/{id} or /logs).
func writeProcessJSON(w io.Writer, info process.Info, message string, out outputSource) error {
	head, tail, err := encodeHeadTail(headOf(info), tailOf(info, message))
	if err != nil {
		return err
	}
	// Joined by hand: fmt costs an exec's answer some 3 µs here.
	if _, err := w.Write(append(append([]byte{'{'}, head...), `,"`...)); err != nil {
		return err
	}
	for i, f := range outputFields {
		if i > 0 {
			if _, err := io.WriteString(w, `,"`); err != nil {
				return err
			}
		}
		if _, err := io.WriteString(w, f.key+`":`); err != nil { // keys need no escaping
			return err
		}
		if err := writeOutputValue(w, out, f.streams); err != nil {
			return err
		}
	}
	_, err = w.Write(append(append([]byte{','}, tail...), '}'))
	return err
}

// encodeHeadTail is the members of the JSON objects head and tail, each
// without its braces, through one encoder and one buffer.
func encodeHeadTail(head, tail any) (h, t []byte, err error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // commands are full of < > &: keep them readable
	if err := enc.Encode(head); err != nil {
		return nil, nil, fmt.Errorf("encode process: %w", err)
	}
	split := b.Len()
	if err := enc.Encode(tail); err != nil {
		return nil, nil, fmt.Errorf("encode process: %w", err)
	}
	all := b.Bytes()
	return all[1 : split-2], all[split+1 : len(all)-2], nil // "{...}\n{...}\n"
}

// writeOutputValue writes the selected streams as a JSON string; without a
// source, logs is null and the streams "".
func writeOutputValue(w io.Writer, out outputSource, streams process.Stream) error {
	if out == nil {
		empty := `""`
		if streams == process.Both {
			empty = "null"
		}
		_, err := io.WriteString(w, empty)
		return err
	}
	if _, err := io.WriteString(w, `"`); err != nil {
		return err
	}
	sw := newJSONStringWriter(w)
	if err := out(sw, streams); err != nil {
		return err
	}
	if err := sw.Close(); err != nil {
		return err
	}
	_, err := io.WriteString(w, `"`)
	return err
}
