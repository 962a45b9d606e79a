package server

import (
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// A ProcessResponse is written in the existing daemon's member order, with
// the output fields between the two parts appended here: the head (pid,
// name, command, status, startedAt, completedAt, exitCode, workingDir),
// then logs, stdout and stderr, then the tail (restartOnFailure,
// maxRestarts, restartCount, keepAlive, stdin, and message when there is
// one). Each part is its members without braces.

// appendProcessHead appends the members before the output ones.
// workingDir echoes the request ("" for the default), as the existing
// daemon does; the command ran in it resolved against the daemon's.
func appendProcessHead(b []byte, info process.Info) []byte {
	b = appendJSONField(b, `"pid":`, info.PID)
	b = appendJSONField(b, `,"name":`, info.Name)
	b = appendJSONField(b, `,"command":`, info.Command)
	b = appendJSONField(b, `,"status":`, string(info.Status))
	b = append(appendWireTime(append(b, `,"startedAt":"`...), info.StartedAt), '"')
	b = append(appendWireTime(append(b, `,"completedAt":"`...), info.CompletedAt), '"')
	b = strconv.AppendInt(append(b, `,"exitCode":`...), int64(info.ExitCode), 10)
	return appendJSONField(b, `,"workingDir":`, info.RequestedDir)
}

// appendProcessTail appends the members after the output ones. message is
// set on stop and kill answers, which the contract also describes as a
// SuccessResponse; stdin is @blaxel/core's addition.
func appendProcessTail(b []byte, info process.Info, message string) []byte {
	b = strconv.AppendBool(append(b, `"restartOnFailure":`...), info.RestartOnFailure)
	b = strconv.AppendInt(append(b, `,"maxRestarts":`...), int64(info.MaxRestarts), 10)
	b = strconv.AppendInt(append(b, `,"restartCount":`...), int64(info.RestartCount), 10)
	b = strconv.AppendBool(append(b, `,"keepAlive":`...), info.KeepAlive)
	b = strconv.AppendBool(append(b, `,"stdin":`...), info.Stdin)
	if message != "" {
		b = appendJSONField(b, `,"message":`, message)
	}
	return b
}

// appendWireTime appends t in the RFC 1123 GMT form the API uses
// (http.TimeFormat), nothing for a zero time. It spells it field by field
// rather than through time.Format, whose reading of the layout took some
// 1.5 µs of each time in an exec's answer, timed in place
// (docs/measured.md); a year of other than four digits goes through
// time.Format.
func appendWireTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return b
	}
	t = t.UTC()
	year, month, day := t.Date()
	if year < 1000 || year > 9999 {
		return t.AppendFormat(b, http.TimeFormat)
	}
	hour, minute, second := t.Clock()
	b = append(append(b, t.Weekday().String()[:3]...), ", "...)
	b = append(append(appendTwoDigits(b, day), ' '), month.String()[:3]...)
	b = append(strconv.AppendInt(append(b, ' '), int64(year), 10), ' ')
	b = append(appendTwoDigits(b, hour), ':')
	b = append(appendTwoDigits(b, minute), ':')
	return append(appendTwoDigits(b, second), " GMT"...)
}

// appendTwoDigits appends n (0 to 99) in two digits.
func appendTwoDigits(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
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
	b := appendProcessHead(append(make([]byte, 0, 256), '{'), info)
	for _, f := range outputFields {
		b = append(append(append(b, ',', '"'), f.key...), '"', ':') // keys need no escaping
		if _, err := w.Write(b); err != nil {
			return err
		}
		if err := writeOutputValue(w, out, f.streams); err != nil {
			return err
		}
		b = b[:0]
	}
	_, err := w.Write(append(appendProcessTail(append(b, ','), info, message), '}'))
	return err
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
