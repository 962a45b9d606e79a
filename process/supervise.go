package process

import (
	"os"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/exitwait"
	"github.com/sandbox-api/sandbox-api/internal/fdholders"
)

// supervise waits for each attempt, restarts on failure when asked, and
// records the end. One goroutine per process runs it, from Start to the end.
func (p *Process) supervise() {
	for {
		p.mu.Lock()
		cmd, drained, outputs := p.cmd, p.drained, p.outputs
		p.mu.Unlock()
		// No thread held while it runs. Only cmd.Wait reaps a managed child
		// (the reaper leaves managed pids alone), so the pid is still ours.
		exitwait.Await(cmd.Process.Pid)
		_ = cmd.Wait()
		p.m.reaper.waited(cmd.Process.Pid)
		// An orphan holding the pipes must not keep the process running;
		// a pump that is only late must not cut its output.
		fdholders.AwaitDrained(drained, p.m.cfg.OutputDrainGrace, p.m.lateDrainLimit,
			func() []fdholders.ID { return fdholders.OfOpen(outputs...) })

		code := exitCode(cmd.ProcessState)
		p.mu.Lock()
		p.alive = false
		if p.stdin != nil {
			p.stdin.close()
			p.stdin = nil
		}
		retry := p.intent == "" && code != 0 && p.spec.RestartOnFailure &&
			(p.spec.MaxRestarts < 0 || p.restartCount < p.spec.MaxRestarts)
		p.mu.Unlock()
		if retry && p.restart() {
			continue
		}
		p.finish(code)
		return
	}
}

// defaultLateDrainLimit bounds the wait for pumps that lag behind a process whose
// pipes nobody else holds (a setuid orphan the scan cannot see would
// otherwise hold the end back for as long as it lives). See
// fdholders.AwaitDrained.
const defaultLateDrainLimit = 5 * time.Second

// finish records the end and wakes everyone waiting for it.
func (p *Process) finish(code int) {
	p.mu.Lock()
	switch {
	case p.intent != "":
		p.status, p.exitCode = p.intent, -1
	case code == 0:
		p.status, p.exitCode = StatusCompleted, 0
	default:
		p.status, p.exitCode = StatusFailed, code
	}
	p.completedAt = time.Now()
	if p.lifetime != nil {
		p.lifetime.Stop()
	}
	p.mu.Unlock()
	p.ended.Store(true)
	p.log.Finish()
	close(p.done)
	p.m.pruneEnded()
}

// exitCode is the exit status, or -1 when a signal ended the process.
func exitCode(st *os.ProcessState) int {
	if st == nil {
		return -1
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return -1
	}
	return st.ExitCode()
}
