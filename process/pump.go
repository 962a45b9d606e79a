package process

import (
	"errors"
	"os"

	"go.uber.org/zap"
)

// A pump's read buffer starts small (most commands print little, and a
// start should not pay for a large allocation) and grows, while reads fill
// it, up to several records, so that a fast writer costs few wakeups.
const (
	pumpBufferStart = 4 << 10
	pumpBufferSize  = 16 * maxChunk
	defaultPipeSize = 64 << 10 // Linux's default pipe capacity
)

// pump copies pipe i of the output into the log until EOF, or until a
// freeze stops it (output.freeze). It is the only reader of the pipe (once
// a quick watch, if any, handed it on), and writes only to disk, so no
// client can slow the process down.
func (o *output) pump(i int, f *os.File) {
	defer o.pumps.Done()
	fd, _ := rawFD(f)
	var r pipeReading
	for {
		n, err := f.Read(r.space())
		r.keep(o.p, outputStreams[i], fd, n)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && o.frozen.Load() {
				return // frozen: the pipe stays open, what was read is kept
			}
			o.reachedEOF(i)
			return
		}
	}
}

// pipeReading is what a reader of one pipe (a pump, or a quick watch for
// each of its pipes) keeps between reads: its buffer, made at the first
// read (space) and grown while reads fill it; whether it grew the pipe;
// whether the log refused the last write (logged once per run of
// failures, not per read). The zero value is ready.
type pipeReading struct {
	buf     []byte
	grown   bool
	failing bool
}

// space is the buffer to read into, made now if this is the first read: a
// quick watch whose command printed nothing makes none. The start of a
// watch, between the fork and its first poll, delays a child that shares
// the daemon's vCPU by as long as it takes (docs/measured.md).
func (r *pipeReading) space() []byte {
	if r.buf == nil {
		r.buf = make([]byte, pumpBufferStart)
	}
	return r.buf
}

// keep appends the n bytes just read into r.buf to p's log as stream s,
// grows the pipe (fd) once a read found it full (the process writes
// fast), and the buffer while reads fill it.
func (r *pipeReading) keep(p *Process, s Stream, fd, n int) {
	if n <= 0 {
		return
	}
	if !r.grown && n >= defaultPipeSize {
		growPipe(fd)
		r.grown = true
	}
	if p.m.beforeAppend != nil {
		p.m.beforeAppend()
	}
	rolled, err := p.log.Append(s, r.buf[:n])
	if err != nil && !r.failing {
		p.m.cfg.Logger.Error("process output not kept (readers get a marker with the count)", zap.String("name", p.name), zap.Error(err))
	}
	r.failing = err != nil
	if rolled {
		p.m.enforceDiskBudget()
	}
	if n == len(r.buf) && len(r.buf) < pumpBufferSize {
		r.buf = make([]byte, min(4*len(r.buf), pumpBufferSize))
	}
}
