package process

import (
	"fmt"
	"os"
	"runtime"
	"strconv"

	"github.com/sandbox-api/sandbox-api/internal/procfile"
)

// spawn starts one attempt (the first, or a restart): the spec's command
// (see forkShell) with its output pumped into the log, its stdin a pipe
// when asked for, else /dev/null.
func (p *Process) spawn() error {
	m := p.m
	pipes, err := m.pipesAhead.take()
	if err != nil {
		return err
	}
	outR, outW, errR, errW := pipes.outR, pipes.outW, pipes.errR, pipes.errW
	stdin := m.devNull // rather than one opened and closed per start
	var inR, inW *os.File
	p.mu.Lock()
	wantStdin := p.spec.Stdin && !p.stdinClosed
	p.mu.Unlock()
	if wantStdin {
		if inR, inW, err = os.Pipe(); err != nil {
			pipes.close()
			return fmt.Errorf("stdin pipe: %w", err)
		}
		stdin = inR
	}
	var pidfd int
	pid, err := m.reaper.startWith(func() (pid int, err error) {
		// Fd makes stdin blocking, as the child needs it (os.StartProcess
		// does the same); the write ends are blocking already.
		pid, pidfd, err = m.forkShell(&p.spec, [3]uintptr{stdin.Fd(), uintptr(outW.fd), uintptr(errW.fd)}, m.pidfds)
		runtime.KeepAlive(stdin) // open until the fork is done
		return pid, err
	})
	closeAll(inR) // the child holds its own copy
	if err != nil {
		pipes.close()
		closeAll(inW)
		return err
	}
	// The write ends stay open for the quick watch, which closes them once
	// the child exited (see quickWatch); without a pidfd there is no quick
	// watch, and the child holds its own copies.
	writers := [2]pipeWriteEnd{outW, errW}
	if pidfd < 0 {
		writers[0].close()
		writers[1].close()
	}
	if m.cfg.ResetChildOOMScore {
		_ = procfile.Write("/proc/"+strconv.Itoa(pid)+"/oom_score_adj", "0")
	}
	// Each attempt has its own output: an orphan of an earlier attempt may
	// hold that attempt's pipes long after a restart.
	att := &attempt{pid: pid, pidfd: pidfd, out: m.newOutput(p, outR, errR), writers: writers}
	att.out.drainedHint = att.exit.hint // set before the pumps run
	p.mu.Lock()
	p.att, p.alive = att, true
	if p.intent != "" {
		// A stop came after restart checked for one and before this attempt
		// could be signalled: end the attempt now.
		p.signalLocked(sigKILL)
	}
	if inW != nil {
		p.stdin = newStdinPipe(inW)
	}
	p.mu.Unlock()
	// The supervisor reads the output from here (Process.quickWatch).
	// This attempt took the pipes made ahead: the next start's are made
	// while this child runs, off the way of every answer. (On the
	// supervisor's goroutine, before its wait, an exec answered 4 µs later.)
	go m.pipesAhead.refill()
	return nil
}

// closeAll closes the files that are set, ignoring errors: it runs on
// paths that already fail or no longer need them.
func closeAll(fs ...*os.File) {
	for _, f := range fs {
		if f != nil {
			_ = f.Close()
		}
	}
}
