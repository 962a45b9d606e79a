package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// streamWriteTimeout bounds each flush to a streaming client: a client that
// stopped reading is dropped instead of holding its handler forever.
const streamWriteTimeout = 30 * time.Second

// streamBufferSize batches the lines that are ready at once into large
// writes: a client catching up on a fast process costs few syscalls.
const streamBufferSize = 256 << 10

// lineStream pulls lines from a process's log and writes them to one
// client, at the client's pace. Lines that are available at once are
// batched; the buffer is flushed whenever the stream would wait.
type lineStream struct {
	w         http.ResponseWriter
	rc        *http.ResponseController
	bw        *bufio.Writer
	lines     *process.LineReader
	keepalive time.Duration
}

func newLineStream(w http.ResponseWriter, p *process.Process, keepalive time.Duration) *lineStream {
	if keepalive <= 0 {
		keepalive = 10 * time.Second
	}
	return &lineStream{
		w:         w,
		rc:        http.NewResponseController(w),
		bw:        bufio.NewWriterSize(w, streamBufferSize),
		lines:     p.Log().NewLineReader(),
		keepalive: keepalive,
	}
}

func (s *lineStream) close() { s.lines.Close() }

func (s *lineStream) flush() error {
	_ = s.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if err := s.bw.Flush(); err != nil {
		return err
	}
	return s.rc.Flush()
}

// run calls line for each line and idle after each keepalive interval
// without one, until the log ends (nil), the client leaves or a write fails.
// Lines are handed over in batches, straight from the log reader's buffer.
func (s *lineStream) run(ctx context.Context, line func(process.Line) error, idle func() error) error {
	var werr error
	each := func(l process.Line) {
		if werr == nil {
			werr = line(l)
		}
	}
	for werr == nil {
		err := s.lines.NextBatch(ctx, -1, each)
		if errors.Is(err, process.ErrIdle) {
			if err := s.flush(); err != nil {
				return err
			}
			err = s.lines.NextBatch(ctx, s.keepalive, each)
			if errors.Is(err, process.ErrIdle) {
				if err := idle(); err != nil {
					return err
				}
				if err := s.flush(); err != nil {
					return err
				}
				continue
			}
		}
		if errors.Is(err, io.EOF) {
			return s.flush()
		}
		if err != nil {
			return err
		}
	}
	return werr
}

// logStreamPrefix starts each line of a log stream.
var logStreamPrefix = [...]string{process.Stdout: "stdout:", process.Stderr: "stderr:"}

// streamLogs is GET /process/{id}/logs/stream: "stdout:<line>" and
// "stderr:<line>" lines, everything so far then live, until the process ends.
func (h *processHandlers) streamLogs(w http.ResponseWriter, r *http.Request) {
	p, ok := h.lookup(w, r)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	s := newLineStream(w, p, h.opts.KeepaliveInterval)
	defer s.close()
	_ = s.flush() // the client knows at once that the stream is open
	_ = s.run(r.Context(),
		func(l process.Line) error {
			_, _ = s.bw.WriteString(logStreamPrefix[l.Stream])
			_, _ = s.bw.Write(l.Text)
			return s.bw.WriteByte('\n')
		},
		func() error {
			_, err := s.bw.WriteString("[keepalive]\n")
			return err
		})
}

// execFrame is one line of the ndjson stream of POST /process.
type execFrame struct {
	Type string `json:"type"`
	Data string `json:"data,omitempty"`
}

// streamExecution answers POST /process with Accept: text/event-stream:
// ndjson frames of output as it comes, then the result. The process has
// started already, so every error before this point was a plain HTTP error.
func (h *processHandlers) streamExecution(w http.ResponseWriter, r *http.Request, p *process.Process, timeout time.Duration) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s := newLineStream(w, p, h.opts.KeepaliveInterval)
	defer s.close()
	_ = s.flush()

	ctx := r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	enc := json.NewEncoder(s.bw)
	enc.SetEscapeHTML(false)
	err := s.run(ctx,
		func(l process.Line) error {
			return enc.Encode(execFrame{Type: l.Stream.String(), Data: string(l.Text)})
		},
		func() error { return enc.Encode(execFrame{Type: "keepalive"}) })
	timedOut := errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil
	if err != nil && !timedOut {
		return // the client left or stopped reading
	}
	if timedOut {
		// The SDK ignores error frames and needs a result: the record as it
		// stands (still running) follows the error.
		_ = enc.Encode(execFrame{Type: "error", Data: "process timed out after " + timeout.String() + "; the process keeps running"})
	} else {
		<-p.Done() // the log ends only once the process has
	}
	_, _ = s.bw.WriteString(`{"type":"result","data":"`)
	sw := newJSONStringWriter(s.bw)
	if err := writeProcessJSON(sw, p.Info(), "", fullOutput(p, r)); err != nil {
		return
	}
	_ = sw.Close()
	_, _ = s.bw.WriteString("\"}\n")
	_ = s.flush()
}
