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
func (o *output) pump(i int, r *os.File) {
	defer o.pumps.Done()
	buf := make([]byte, pumpBufferStart)
	grown := false
	var k keeper
	for {
		n, err := r.Read(buf)
		if !grown && n >= defaultPipeSize {
			// The process filled the whole pipe: it writes fast.
			growPipe(r)
			grown = true
		}
		k.keep(o.p, outputStreams[i], buf[:n])
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) && o.frozen.Load() {
				return // frozen: the pipe stays open, what was read is kept
			}
			o.reachedEOF(i)
			return
		}
		if n == len(buf) && len(buf) < pumpBufferSize {
			buf = make([]byte, min(4*len(buf), pumpBufferSize))
		}
	}
}

// keeper appends what a reader of one pipe read to the log, and logs a run
// of failed writes once, not per read.
type keeper struct{ failing bool }

func (k *keeper) keep(p *Process, s Stream, b []byte) {
	if len(b) == 0 {
		return
	}
	if p.m.beforeAppend != nil {
		p.m.beforeAppend()
	}
	rolled, err := p.log.Append(s, b)
	if err != nil && !k.failing {
		p.m.cfg.Logger.Error("process output not kept (readers get a marker with the count)", zap.String("name", p.name), zap.Error(err))
	}
	k.failing = err != nil
	if rolled {
		p.m.enforceDiskBudget()
	}
}
