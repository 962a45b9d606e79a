package process

import (
	"os"
	"time"
)

// stateVersion is the version of the state Freeze writes; Resume refuses
// any other. Add a field with a zero value that means what the earlier
// images did, and the version stays; change the meaning of one, and it
// goes up (with the daemon's hand-over format, handover.FormatVersion).
const stateVersion = 1

// frozenManager is the state of a frozen manager: its records in start
// order, and every output whose pipes are open. Descriptors are indexes in
// handover.Frozen.Files.
type frozenManager struct {
	Version   int             `json:"version"`
	IDs       uint64          `json:"ids"`    // the last process id given
	SegSeq    uint64          `json:"segSeq"` // the last log segment number given
	Processes []frozenProcess `json:"processes"`
	Outputs   []frozenOutput  `json:"outputs"`
}

// frozenProcess is one record, with everything a client can observe of it
// and everything its supervisor needs to go on.
type frozenProcess struct {
	ID           uint64         `json:"id"`
	PID          string         `json:"pid"`
	Name         string         `json:"name"`
	Spec         Spec           `json:"spec"`
	RequestedDir string         `json:"requestedDir"`
	Log          frozenLog      `json:"log"`
	Status       Status         `json:"status"`
	ExitCode     int            `json:"exitCode"`
	StartedAt    time.Time      `json:"startedAt"`
	CompletedAt  time.Time      `json:"completedAt"`
	RestartCount int            `json:"restartCount"`
	Intent       Status         `json:"intent"`
	StdinClosed  bool           `json:"stdinClosed"`
	Ended        bool           `json:"ended"`
	Alive        bool           `json:"alive"`
	Attempt      *frozenAttempt `json:"attempt"`
	Stdin        int            `json:"stdin"` // the write end of its stdin; -1: none
	RestartAt    time.Time      `json:"restartAt"`
	LifetimeAt   time.Time      `json:"lifetimeAt"`
	LifetimeOf   time.Duration  `json:"lifetimeOf"`
	// Earlier: a record of a run before a restart (RecoverEarlierRun).
	Earlier bool `json:"earlier,omitempty"`
}

// frozenAttempt is the last attempt of a record: a child the next image
// waits for unless it was reaped already.
type frozenAttempt struct {
	PID    int  `json:"pid"`
	Reaped bool `json:"reaped"`
	Code   int  `json:"code"`
	Output int  `json:"output"` // index in Outputs; -1: its pipes reached end of file
}

// frozenOutput is an output with an open pipe.
type frozenOutput struct {
	// Process is the record's id; 0 for a record forgotten meanwhile
	// (pruneEnded), whose late output is read and dropped.
	Process uint64 `json:"process"`
	Stdout  int    `json:"stdout"` // -1: at end of file
	Stderr  int    `json:"stderr"`
}

// snapshot describes the frozen manager; files are the descriptors the
// state refers to.
func (m *Manager) snapshot(procs []*Process, outs []*output) (frozenManager, []*os.File) {
	st := frozenManager{Version: stateVersion, IDs: m.ids.Load(), SegSeq: m.segSeq.Load()}
	var files []*os.File
	index := func(f *os.File) int {
		if f == nil {
			return -1
		}
		files = append(files, f)
		return len(files) - 1
	}
	listed := make(map[*Process]bool, len(procs))
	for _, p := range procs {
		listed[p] = true
	}
	outIndex := make(map[*output]int, len(outs))
	for i, o := range outs {
		open := o.openFiles()
		fo := frozenOutput{Stdout: index(open[0]), Stderr: index(open[1])}
		if listed[o.p] {
			fo.Process = o.p.id
		}
		st.Outputs = append(st.Outputs, fo)
		outIndex[o] = i
	}
	for _, p := range procs {
		p.mu.Lock()
		fp := frozenProcess{
			ID: p.id, PID: p.pid, Name: p.name, Spec: p.spec, RequestedDir: p.requestedDir,
			Log: p.log.freeze(), Status: p.status, ExitCode: p.exitCode,
			StartedAt: p.startedAt, CompletedAt: p.completedAt, RestartCount: p.restartCount,
			Intent: p.intent, StdinClosed: p.stdinClosed, Ended: p.ended.Load(), Alive: p.alive,
			Stdin: -1, RestartAt: p.restartAt, LifetimeAt: p.lifetimeAt, LifetimeOf: p.lifetimeOf,
			Earlier: p.earlier,
		}
		if a := p.att; a != nil {
			fa := &frozenAttempt{PID: a.pid, Reaped: a.reaped, Code: a.code, Output: -1}
			if i, ok := outIndex[a.out]; ok {
				fa.Output = i
			}
			fp.Attempt = fa
		}
		if p.stdin != nil {
			fp.Stdin = index(p.stdin.file())
		}
		p.mu.Unlock()
		st.Processes = append(st.Processes, fp)
	}
	return st, files
}
