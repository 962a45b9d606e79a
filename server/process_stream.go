package server

import (
	"context"
	"errors"
	"io"
	"net/http"
	"time"

	"github.com/sandbox-api/sandbox-api/process"
)

// streamWriteTimeout bounds each flush to a streaming client: a client that
// stopped reading is dropped instead of holding its handler forever.
const streamWriteTimeout = 30 * time.Second

// A stream's buffer batches what is ready at once into large writes: a
// client catching up on a fast process costs few syscalls (and, for a
// chunked response, few chunks, each of which net/http writes in two). It
// starts small and grows, doubling, up to streamBufferSize only while
// there is that much to send at once: a stream that keeps up, or waits,
// holds little.
const (
	streamBufferStart = 64 << 10
	streamBufferSize  = 1 << 20
)

// logStream writes what a reader pulls from a process's log to one
// client, at the client's pace. Whatever is available at once is batched
// into the buffer, which is flushed whenever the stream would wait.
type logStream struct {
	rc        *http.ResponseController
	bw        *streamBuffer
	keepalive time.Duration
}

func newLogStream(w http.ResponseWriter, keepalive time.Duration) *logStream {
	if keepalive <= 0 {
		keepalive = DefaultKeepaliveInterval
	}
	rc := http.NewResponseController(w)
	return &logStream{
		rc:        rc,
		bw:        newStreamBuffer(&lazyDeadlineWriter{w: w, rc: rc}),
		keepalive: keepalive,
	}
}

func (s *logStream) flush() error {
	if err := s.bw.Flush(); err != nil {
		return err
	}
	return s.rc.Flush()
}

// run calls next, which writes the next piece of the log to s.bw, and idle
// after each keepalive interval without output, until the log ends (nil),
// the client leaves or a write fails. next waits like the log readers: an
// idle of -1 asks for what is ready now, ErrIdle when nothing is.
func (s *logStream) run(ctx context.Context, next func(ctx context.Context, idle time.Duration) error, idle func() error) error {
	for {
		err := next(ctx, -1)
		if errors.Is(err, process.ErrIdle) {
			if err := s.flush(); err != nil {
				return err
			}
			err = next(ctx, s.keepalive)
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
}

// maxFramedChunk is what one chunk of output takes framed as lines, as a
// rule: a chunk of short lines with their prefixes.
const maxFramedChunk = 2 * process.MaxChunkData

// logStreamPrefix starts each line of a log stream.
var logStreamPrefix = process.LinePrefixes{process.Stdout: "stdout:", process.Stderr: "stderr:"}

// streamLogs is GET /process/{id}/logs/stream: "stdout:<line>" and
// "stderr:<line>" lines, everything so far then live, until the process ends.
func (h *processHandlers) streamLogs(w http.ResponseWriter, r *http.Request) {
	// A JSON 404, where the existing daemon streams a 200 with the error
	// as its only line: the SDK reports an error status through onError.
	p, ok := h.lookup(w, r, notFoundIdentifier)
	if !ok {
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	s := newLogStream(w, h.opts.KeepaliveInterval)
	lines := p.Log().NewLineReader()
	defer lines.Close()
	_ = s.flush() // the client knows at once that the stream is open
	_ = s.run(r.Context(),
		func(ctx context.Context, idle time.Duration) error {
			var err error
			werr := s.bw.Append(maxFramedChunk, func(dst []byte) []byte {
				dst, err = lines.NextFramed(ctx, idle, dst, &logStreamPrefix)
				return dst
			})
			if err != nil {
				return err
			}
			return werr
		},
		func() error {
			_, err := s.bw.WriteString("[keepalive]\n")
			return err
		})
}

// streamExecution answers POST /process with Accept: text/event-stream:
// ndjson frames of output as it comes, then the result. The process has
// started already, so every error before this point was a plain HTTP error.
// Output frames carry the bytes as the process wrote them (see
// process.ChunkReader): the SDK hands each frame's data to onStdout,
// onStderr and onLog as it is, so joining them must give the output.
func (h *processHandlers) streamExecution(w http.ResponseWriter, r *http.Request, p *process.Process, timeout time.Duration) {
	w.Header().Set("Content-Type", "application/x-ndjson")
	w.WriteHeader(http.StatusOK)
	s := newLogStream(w, h.opts.KeepaliveInterval)
	chunks := p.Log().NewChunkReader()
	defer chunks.Close()
	_ = s.flush()

	ctx := r.Context()
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	frames := newExecFrames(s.bw)
	err := s.run(ctx,
		func(ctx context.Context, idle time.Duration) error {
			c, err := chunks.Next(ctx, idle)
			if err != nil {
				return err
			}
			return frames.output(c)
		},
		frames.keepalive)
	timedOut := errors.Is(err, context.DeadlineExceeded) && r.Context().Err() == nil
	if err != nil && !timedOut {
		return // the client left or stopped reading
	}
	if timedOut {
		// The SDK ignores error frames and needs a result: the record as it
		// stands (still running) follows the error.
		_ = frames.error(process.TimeoutError(timeout).Error())
	} else {
		<-p.Done() // the log ends only once the process has
	}
	// The frames carried every byte: the result's output fields are the
	// tail GET /process/{id} gives (whole for outputs up to 64 KiB), not
	// the whole output twice more in one line, which would triple the
	// transfer and which the SDK cannot parse past its string limit.
	if frames.result(func(w io.Writer) error {
		return writeProcessJSON(w, p.Info(), "", tailOutput(p, tailBytesOne))
	}) == nil {
		_ = s.flush()
	}
}
