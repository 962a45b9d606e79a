package main

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// daemonPipeSize is the pipe capacity the daemon gives a process that
// writes fast (process.fastPipeSize): a baseline with it is the same
// pipeline as the daemon's, pipe and all.
const daemonPipeSize = 1 << 20

// timeRawPipeline runs the generator with its stdout on a pipe of
// pipeSize bytes (0: the kernel's default, 64 KiB) read by consume, and
// returns the time from start to exit.
func timeRawPipeline(b *testing.B, genArgs []string, pipeSize int, consume func(io.Reader) error) time.Duration {
	b.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	if pipeSize > 0 {
		if _, err := unix.FcntlInt(r.Fd(), unix.F_SETPIPE_SZ, pipeSize); err != nil {
			b.Fatalf("grow the pipe: %v", err)
		}
	}
	cmd := exec.Command(helperBin, genArgs...)
	cmd.Stdout = w
	start := time.Now()
	err = cmd.Start()
	w.Close()
	if err != nil {
		b.Fatal(err)
	}
	err = consume(r)
	if werr := cmd.Wait(); err == nil {
		err = werr
	}
	took := time.Since(start)
	if err != nil {
		b.Fatalf("raw pipeline: %v", err)
	}
	return took
}

// keepInNewFiles returns a consumer for timeRawPipeline that copies what
// it reads, in writes as large as the daemon's (512 KiB), into a new file
// in dir each time it is called, and keeps the file: the floor of output
// that must not be lost, whose bytes land in new page-cache pages as a
// process's log does. A file written over, or removed before the next one,
// would hand its freed pages straight back to the next, which on a VM
// whose host reclaims free guest memory costs several times less than
// pages never touched before (see docs/measured.md, streamed exec).
// want is the byte count each copy must reach.
func keepInNewFiles(dir string, want int64) func(io.Reader) error {
	n := 0
	buf := make([]byte, 512<<10)
	return func(r io.Reader) error {
		n++
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("kept-%d", n)))
		if err != nil {
			return err
		}
		// Plain reads and writes, as the daemon's (wrapped: os.File's
		// ReadFrom would take its own path and buffer).
		copied, err := io.CopyBuffer(struct{ io.Writer }{f}, struct{ io.Reader }{r}, buf)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err == nil && copied != want {
			err = fmt.Errorf("kept %d bytes of %d", copied, want)
		}
		return err
	}
}

// runInTurns runs the steps of round i in the i-th of their orders
// (turnOrder), each after a sync, so that none pays for the writeback of
// the last one's pages. Callers run round 0 once untimed first: the first
// round, with fresh daemons and memory not yet full of the last rounds'
// pages, read up to 30% apart from the others, and it always ran its steps
// in the same order. Without it an A/A run (the same binary as the tree
// and as BENCH_BEFORE_BIN) read the step at the second index 25–30% slower
// than the one at the third, in every run, whichever daemon it was; with
// it the two agree within 4%.
func runInTurns(steps []func(), i int) {
	for _, k := range turnOrder(len(steps), i) {
		syscall.Sync() // no step pays for the writeback of the last one's pages
		steps[k]()
	}
}
