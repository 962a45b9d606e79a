package main

import (
	"io"
	"os"
	"os/exec"
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
