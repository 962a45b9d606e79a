package process

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Config tunes a Manager. Zero values take the documented defaults.
type Config struct {
	LogDir                string // where process output is kept; required
	MaxLogBytesPerProcess int64  // default DefaultMaxLogBytesPerProcess
	MaxLogBytesTotal      int64  // default DefaultMaxLogBytesTotal
	MaxEndedProcesses     int    // ended records kept; default DefaultMaxEndedProcesses
	WorkingDir            string // default: the daemon's working directory
	Shell                 string // default: $SHELL when it exists, else /bin/sh
	Env                   []string
	Logger                *zap.Logger
	RestartDelay          time.Duration // default 1 s
	StopGrace             time.Duration // SIGTERM to SIGKILL on stop; default 5 s
	KeepAliveTimeout      time.Duration // default lifetime of keepAlive processes; default 600 s
	// OutputDrainGrace bounds how long, after a process exits, its record
	// waits for output still in the pipes (an orphan holding a pipe open
	// must not keep the process "running"). Default 100 ms.
	OutputDrainGrace time.Duration
	// Reap makes the manager a child subreaper that reaps orphaned
	// descendants. Set it in the daemon, once per OS process.
	Reap bool
	// ResetChildOOMScore sets each child's oom_score_adj back to 0, for a
	// daemon that protected itself from the OOM killer.
	ResetChildOOMScore bool
	// User runs every process as that user, with its HOME, USER and
	// LOGNAME (nil: as the daemon). A request's env may still set those
	// variables: a variable grants no privilege.
	User *runas.User
}

func (c *Config) setDefaults() error {
	if c.LogDir == "" {
		return fmt.Errorf("process manager: LogDir is required")
	}
	if c.MaxLogBytesPerProcess <= 0 {
		c.MaxLogBytesPerProcess = DefaultMaxLogBytesPerProcess
	}
	if c.MaxLogBytesTotal <= 0 {
		c.MaxLogBytesTotal = DefaultMaxLogBytesTotal
	}
	if c.MaxEndedProcesses <= 0 {
		c.MaxEndedProcesses = DefaultMaxEndedProcesses
	}
	if c.WorkingDir == "" {
		wd, err := os.Getwd()
		if err != nil {
			return fmt.Errorf("process manager: working directory: %w", err)
		}
		c.WorkingDir = wd
	}
	if c.Shell == "" {
		c.Shell = DefaultShell()
	}
	if c.Env == nil {
		c.Env = os.Environ()
	}
	c.Env = dedupEnv(c.User.Environ(c.Env)) // once, not on every start (forkShell)
	if !strings.Contains(c.Shell, "/") {
		// A bare name is looked up in PATH, once (as exec.Command would on
		// every start); not found, the starts fail and say so.
		if path, err := exec.LookPath(c.Shell); err == nil {
			c.Shell = path
		}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
	if c.RestartDelay <= 0 {
		c.RestartDelay = time.Second
	}
	if c.StopGrace <= 0 {
		c.StopGrace = 5 * time.Second
	}
	if c.KeepAliveTimeout <= 0 {
		c.KeepAliveTimeout = 600 * time.Second
	}
	if c.OutputDrainGrace <= 0 {
		c.OutputDrainGrace = 100 * time.Millisecond
	}
	return nil
}

// DefaultShell is $SHELL when it names an existing file, else /bin/sh.
func DefaultShell() string {
	if sh := os.Getenv("SHELL"); sh != "" {
		if _, err := os.Stat(sh); err == nil {
			return sh
		}
	}
	return "/bin/sh"
}

// Manager starts processes and keeps their records and output.
type Manager struct {
	cfg    Config
	reaper *reaper
	segSeq atomic.Uint64

	ids atomic.Uint64 // process ids, for log file names

	// earlier are the log dir's segments as NewManager found them, before
	// this run wrote any, for RecoverEarlierRun to take: one listing of
	// the folder on the way to the first answer instead of two. Under mu;
	// the first start drops what no recovery took.
	earlier map[uint64][]segmentFile

	mu    sync.Mutex
	procs []*Process // in start order
	// ended counts the records of procs that ended, so that an end checks
	// the cap on them (takePrunedLocked) without a look at every record,
	// on the way to the answer: with --max-ended-processes 100000, an
	// exec-and-wait lost 11 to 92 µs to that look as records piled up.
	// Under mu, with procs.
	ended int
	// names are the names taken: by a start under way (nil) or by a
	// process that has not ended: one lookup, where a look at every
	// record made each start's cost grow with the records kept.
	names    map[string]*Process
	closing  bool
	starting sync.WaitGroup // starts between reserveName and their supervisor's start

	budgetMu sync.Mutex // serialises enforcement of the total disk cap
	journal  *journal   // what a restart reads back (records_journal.go)
	// forgetting counts the pruned records whose journal line and files
	// are being written and removed, off the way to an end's answer
	// (Process.finish).
	forgetting sync.WaitGroup
	// tidy runs what an end leaves to do a moment after its answer
	// (end_tidy.go).
	tidy *endTidy
	// devNull is the stdin of every process started without a stdin pipe,
	// opened once and never closed: a process may start (a restart) until
	// the daemon's last moment.
	devNull *os.File
	// pipesAhead holds the output pipes of the next start, made while the
	// child of the one before ran (pipes_ahead.go).
	pipesAhead pipesAhead
	// quick bounds the supervisors' quick watches (quickwatch_linux.go).
	quick quickSlots

	// outputs are the outputs with a pipe not yet at end of file
	// (output.go), of every attempt, ended and forgotten processes' too.
	outMu   sync.Mutex
	outputs map[*output]struct{}

	// The switch to a new binary (freeze.go). frozen refuses starts and
	// client acts; acting is held for reading by each client act and
	// lifetime expiry, for writing by a freeze, so that none is half done
	// in the state handed on; halt stops the supervisors at their waits.
	frozen      atomic.Bool
	acting      sync.RWMutex
	halt        context.Context
	haltNow     context.CancelFunc
	supervisors sync.WaitGroup
	// pidfds: waits for children can stop without reaping here, which a
	// freeze needs (Linux 5.3 and no seccomp filter refusing them).
	pidfds bool

	beforeAppend   func()        // tests only: holds a pump back, as a loaded machine may
	lateDrainLimit time.Duration // defaultLateDrainLimit; tests lengthen it
	quickLimit     time.Duration // defaultQuickWatchLimit; tests lengthen it
	// quickWatched, tests only: told as each quick watch ends how often a
	// poll woke it before the child's exit, and whether it saw the exit
	// and both pipes' ends itself.
	quickWatched func(wokeBeforeExit int, sawAll bool)
	// beforeJournalStart, tests only: called before a start's line is
	// written in the records journal.
	beforeJournalStart func()
	// supervisorFrom, tests only: told as a supervisor's goroutine starts,
	// with what it knows of its first quick watch (superviseHere).
	supervisorFrom func(firstWatch)
}

// NewManager prepares the log folder and, with cfg.Reap, starts reaping
// orphans. What an earlier run left in the folder stays: RecoverEarlierRun
// lists it, and new logs never take the names of its files.
func NewManager(cfg Config) (*Manager, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(cfg.LogDir, 0o700); err != nil {
		return nil, fmt.Errorf("create log dir %s: %w", cfg.LogDir, err)
	}
	j, err := openJournal(cfg.LogDir, cfg.Logger)
	if err != nil {
		return nil, fmt.Errorf("log dir %s: %w", cfg.LogDir, err)
	}
	m, err := newManager(cfg, j)
	if err != nil {
		j.close()
		return nil, err
	}
	m.earlier, _ = segmentFiles(cfg.LogDir) // unreadable: RecoverEarlierRun says why
	m.ids.Store(highestLogID(m.earlier))
	m.startReaper()
	return m, nil
}

// newManager is an empty manager on cfg, defaults set, appending to the
// records journal j; its reaper does not run yet.
func newManager(cfg Config, j *journal) (*Manager, error) {
	devNull, err := os.Open(os.DevNull)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", os.DevNull, err)
	}
	m := &Manager{
		devNull:        devNull,
		cfg:            cfg,
		reaper:         newReaper(),
		names:          map[string]*Process{},
		outputs:        map[*output]struct{}{},
		pidfds:         pidfdsWork(),
		lateDrainLimit: defaultLateDrainLimit,
		quickLimit:     defaultQuickWatchLimit,
		journal:        j,
		quick:          newQuickSlots(),
		tidy:           newEndTidy(),
	}
	m.halt, m.haltNow = context.WithCancel(context.Background())
	return m, nil
}

// startReaper makes the manager reap orphans, with cfg.Reap.
func (m *Manager) startReaper() {
	if !m.cfg.Reap {
		return
	}
	if err := m.reaper.run(); err != nil {
		m.cfg.Logger.Warn("cannot become child subreaper; orphans are reaped by the real init", zap.Error(err))
	}
}

// Get finds a process by pid string or name; the newest match wins.
func (m *Manager) Get(identifier string) (*Process, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i := len(m.procs) - 1; i >= 0; i-- {
		p := m.procs[i]
		if p.pid == identifier || p.name == identifier {
			return p, nil
		}
	}
	return nil, ErrNotFound
}

// List returns every process, running and ended, oldest first.
func (m *Manager) List() []*Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]*Process(nil), m.procs...)
}

// reserveName holds name (or a generated one) for a process being started,
// so that two starts cannot both take it. The reservation ends with add or
// releaseName, and the start with startDone.
func (m *Manager) reserveName(name string) (string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.earlier = nil
	if m.closing {
		return "", ErrShuttingDown
	}
	if m.frozen.Load() {
		return "", ErrSwitching
	}
	if name == "" {
		for n := m.ids.Load() + 1; ; n++ {
			candidate := "proc-" + strconv.FormatUint(n, 10)
			if !m.nameTakenLocked(candidate) {
				name = candidate
				break
			}
		}
	} else if m.nameTakenLocked(name) {
		return "", fmt.Errorf("%w: %q", ErrNameInUse, name)
	}
	m.names[name] = nil
	m.starting.Add(1)
	return name, nil
}

func (m *Manager) nameTakenLocked(name string) bool {
	_, taken := m.names[name]
	return taken
}

func (m *Manager) releaseName(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.names, name)
}

// add makes a started process visible; its name, reserved until now, is
// its own until it ends (markEnded).
func (m *Manager) add(p *Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.names[p.name] = p
	m.procs = append(m.procs, p)
}

// markEnded sets p's ended flag and frees its name, together: a start
// that finds the name free finds p ended.
func (m *Manager) markEnded(p *Process) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !p.ended.Swap(true) {
		m.ended++
	}
	if m.names[p.name] == p {
		delete(m.names, p.name)
	}
}

// startDone ends a start that reserveName let through: Shutdown and Freeze
// wait for those.
func (m *Manager) startDone() { m.starting.Done() }

// act lets a client's act on a process (a stop, a kill, a stdin write) or
// a lifetime's expiry go on, unless the manager is frozen (ErrSwitching);
// release ends it. A freeze waits for the acts under way.
func (m *Manager) act() (release func(), err error) {
	if m.frozen.Load() {
		return nil, ErrSwitching
	}
	m.acting.RLock()
	if m.frozen.Load() {
		m.acting.RUnlock()
		return nil, ErrSwitching
	}
	return m.acting.RUnlock, nil
}

// haltContext is what the supervisors started now stop at: a freeze ends
// it.
func (m *Manager) haltContext() context.Context {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.halt
}

// pruneEnded forgets the oldest ended processes beyond MaxEndedProcesses,
// and removes their logs.
func (m *Manager) pruneEnded() {
	m.forgetPruned(m.takePruned())
}

// takePruned takes out of the list the oldest ended records beyond
// MaxEndedProcesses, and returns them for forgetPruned.
func (m *Manager) takePruned() []*Process {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.takePrunedLocked()
}

// takePrunedAfterEnd is takePruned for an end that answers its waiters
// before it forgets what it took: later reports that the caller forgets
// them then, counted in forgetting, which a freeze and a shutdown wait for
// (the journal the next image or daemon reads says what went). Once a
// shutdown began (closing) later is false and the caller forgets them at
// once.
func (m *Manager) takePrunedAfterEnd() (gone []*Process, later bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	gone = m.takePrunedLocked()
	later = len(gone) > 0 && !m.closing
	if later {
		m.forgetting.Add(1)
	}
	return gone, later
}

func (m *Manager) takePrunedLocked() []*Process {
	ended := m.ended
	if ended <= m.cfg.MaxEndedProcesses {
		return nil
	}
	var gone []*Process
	kept := m.procs[:0]
	for _, p := range m.procs {
		if ended > m.cfg.MaxEndedProcesses && p.ended.Load() {
			gone = append(gone, p)
			ended--
			continue
		}
		kept = append(kept, p)
	}
	for i := len(kept); i < len(m.procs); i++ {
		m.procs[i] = nil
	}
	m.procs = kept
	m.ended = ended
	return gone
}

// forgetPruned notes in the journal that the records taken out are gone,
// and removes their output. Until it has, a crash leaves them whole: a
// restart lists them with their output, and prunes them again.
func (m *Manager) forgetPruned(gone []*Process) {
	for _, p := range gone {
		p.awaitJournaled() // a record's forget line follows its start's
	}
	if len(gone) > 0 {
		m.journal.forgot(gone)
	}
	for _, p := range gone {
		p.log.Remove()
	}
}

// enforceDiskBudget drops the oldest segments, across all logs, while the
// total on disk is over MaxLogBytesTotal. It runs when a log starts a new
// segment, outside any log's lock.
func (m *Manager) enforceDiskBudget() {
	m.budgetMu.Lock()
	defer m.budgetMu.Unlock()
	for {
		logs := m.logs()
		var total int64
		var oldest *Log
		var oldestSeq uint64
		for _, l := range logs {
			total += l.retained()
			if seq, ok := l.oldestDroppable(); ok && (oldest == nil || seq < oldestSeq) {
				oldest, oldestSeq = l, seq
			}
		}
		if total <= m.cfg.MaxLogBytesTotal || oldest == nil {
			return
		}
		if oldest.dropOldest() == 0 {
			return
		}
	}
}

func (m *Manager) logs() []*Log {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]*Log, len(m.procs))
	for i, p := range m.procs {
		out[i] = p.log
	}
	return out
}

// Shutdown stops every running process: SIGTERM to each process group,
// SIGKILL to what is left after grace (the daemon's default:
// DefaultShutdownGrace). It returns once all have ended or a
// short while after the SIGKILL, and refuses new starts from then on. The
// records are then written with their ends, for the next daemon on the log
// folder to list (recover.go).
func (m *Manager) Shutdown(grace time.Duration) {
	m.mu.Lock()
	m.closing = true
	m.mu.Unlock()
	defer m.recordShutdown()
	// Starts already past reserveName finish first (a fork and exec), so
	// that their processes are in the list below and get stopped too.
	m.starting.Wait()
	m.pipesAhead.close()
	m.mu.Lock()
	procs := append([]*Process(nil), m.procs...)
	m.mu.Unlock()

	var running []*Process
	for _, p := range procs {
		if !p.ended.Load() {
			p.requestStop(StatusStopped, sigTERM)
			running = append(running, p)
		}
	}
	deadline := time.NewTimer(grace)
	defer deadline.Stop()
	for _, p := range running {
		select {
		case <-p.done:
		case <-deadline.C:
			for _, q := range running {
				q.requestStop(StatusKilled, sigKILL)
			}
			waitAll(running, 2*time.Second)
			m.reaper.close()
			return
		}
	}
	m.reaper.close()
}

func waitAll(ps []*Process, limit time.Duration) {
	t := time.NewTimer(limit)
	defer t.Stop()
	for _, p := range ps {
		select {
		case <-p.done:
		case <-t.C:
			return
		}
	}
}

// countEndedLocked counts the ended records again, after records were
// added whole (a recovery, a resume).
func (m *Manager) countEndedLocked() {
	m.ended = 0
	for _, p := range m.procs {
		if p.ended.Load() {
			m.ended++
		}
	}
}
