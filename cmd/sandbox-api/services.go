package main

import (
	"fmt"
	"os"
	"slices"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/procs"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/upgrade"
	"github.com/sandbox-api/sandbox-api/watch"
)

// bootCommandName names the process started by --command.
const bootCommandName = "boot-command"

// services are the domain objects the daemon serves, built from the flags.
type services struct {
	processes *process.Manager
	files     *filesystem.FS
	watches   *watch.Service
	ports     *network.Service
	terminals *terminal.Manager // nil: DISABLE_TERMINAL
	upgrades  *upgrade.Upgrader // set by newUpgrader, once the services exist
	// processors sets GOMAXPROCS from the requests served (nil: the
	// runtime's count, unchanged): internal/procs says why.
	processors *procs.Governor
}

// The names the services' states go under in a switch to a new binary
// (upgrade.NamedPart).
const (
	partTerminals = "terminal"
	partPorts     = "network"
	partProcesses = "process"
)

// newServices builds every service; an error has been logged. An image
// started by a switch resumes those that handed their state over (inh),
// and fails when it cannot resume one: the state would be lost.
func newServices(cfg config, logDir string, oomProtected bool, logger *zap.Logger, inh *upgrade.Inherited) (*services, error) {
	// Resumed in this order (the hand-over's descriptors being
	// close-on-exec already, upgrade.Inherit): the terminals, the
	// processes, then the port monitors, which look the processes up.
	// The terminals come first, so the process manager, whose reaper must
	// learn of each new shell, is bound late: no shell starts before the
	// daemon serves, which is after this returns.
	var mgr *process.Manager
	terms, err := newTerminals(cfg, logger, inh, func() { mgr.ChildStarted() })
	if err != nil {
		logger.Error("cannot take over the terminal sessions", zap.Error(err))
		return nil, err
	}
	// Read once, for the two services that start from it.
	wd, err := os.Getwd()
	if err != nil {
		logger.Error("cannot read the working directory", zap.Error(err))
		return nil, err
	}
	mgr, err = newProcessManager(process.Config{
		WorkingDir:            wd,
		LogDir:                logDir,
		MaxLogBytesPerProcess: cfg.maxLogProcessBytes,
		MaxLogBytesTotal:      cfg.maxLogTotalBytes,
		MaxEndedProcesses:     cfg.maxEndedProcesses,
		Logger:                logger.Named("process"),
		Reap:                  true,
		ResetChildOOMScore:    oomProtected,
		User:                  cfg.access.user,
	}, inh)
	if err != nil {
		logger.Error("cannot start the process manager", zap.Error(err))
		return nil, err
	}
	if inh == nil {
		// Only a fresh start: a hand-over holds every record, and its
		// processes are still supervised.
		recoverEarlierRun(mgr, logDir, logger)
	}
	files, err := filesystem.New(filesystem.Config{
		WorkingDir:    wd,
		UploadDir:     cfg.uploadDir,
		UploadTTL:     cfg.uploadTTL,
		MaxUploads:    cfg.bounds.maxUploads,
		MaxHeavyReads: cfg.bounds.maxHeavyReads,
		Logger:        logger.Named("filesystem"),
		User:          cfg.access.user,
	})
	if err != nil {
		logger.Error("cannot set up the filesystem service", zap.Error(err))
		return nil, err
	}
	ports, err := newPorts(network.Config{Processes: mgr, Logger: logger.Named("network")}, inh)
	if err != nil {
		logger.Error("cannot take over the port monitors", zap.Error(err))
		return nil, err
	}
	resumable := []string{partProcesses, partPorts}
	if terms != nil {
		resumable = append(resumable, partTerminals)
	}
	if err := checkAllResumed(inh, resumable...); err != nil {
		logger.Error("cannot take over from the earlier image", zap.Error(err))
		return nil, err
	}
	return &services{
		processes: mgr,
		files:     files,
		watches:   watch.New(files, watch.Config{MaxFolders: cfg.bounds.maxWatchFolders}),
		ports:     ports,
		terminals: terms,
	}, nil
}

// newTerminals resumes the earlier image's terminal sessions, or starts
// afresh; nil when the terminal is disabled (a hand-over of sessions is
// then refused by checkAllResumed).
func newTerminals(cfg config, logger *zap.Logger, inh *upgrade.Inherited, shellStarted func()) (*terminal.Manager, error) {
	if cfg.terminal.disabled {
		return nil, nil
	}
	tcfg := terminal.Config{Logger: logger.Named("terminal"), IdleTimeout: cfg.terminalIdle, MaxSessions: cfg.terminal.maxSessions, User: cfg.access.user, ShellStarted: shellStarted}
	f, ok := inherited(inh, partTerminals)
	if !ok {
		return terminal.NewManager(tcfg), nil
	}
	m, err := terminal.Resume(tcfg, f)
	if err != nil {
		return nil, err
	}
	inh.Resumed(partTerminals, m)
	return m, nil
}

// newPorts resumes the earlier image's port monitors, or starts afresh;
// cfg.Processes must hold the earlier image's processes already.
func newPorts(cfg network.Config, inh *upgrade.Inherited) (*network.Service, error) {
	f, ok := inherited(inh, partPorts)
	if !ok {
		return network.New(cfg), nil
	}
	s, err := network.Resume(cfg, f)
	if err != nil {
		return nil, err
	}
	inh.Resumed(partPorts, s)
	return s, nil
}

// inherited is the state the service name handed over in a switch; false
// on a fresh start, or when the earlier image had no such service.
func inherited(inh *upgrade.Inherited, name string) (handover.Frozen, bool) {
	if inh == nil {
		return handover.Frozen{}, false
	}
	return inh.Part(name)
}

// newProcessManager resumes the earlier image's processes, or starts
// afresh.
func newProcessManager(cfg process.Config, inh *upgrade.Inherited) (*process.Manager, error) {
	f, ok := inherited(inh, partProcesses)
	if !ok {
		return process.NewManager(cfg)
	}
	mgr, err := process.Resume(cfg, f)
	if err != nil {
		return nil, err
	}
	inh.Resumed(partProcesses, mgr)
	return mgr, nil
}

// checkAllResumed fails when the earlier image handed over the state of a
// service this binary does not resume (known lists those it does).
func checkAllResumed(inh *upgrade.Inherited, known ...string) error {
	if inh == nil {
		return nil
	}
	for _, name := range inh.Parts() {
		if !slices.Contains(known, name) {
			return fmt.Errorf("the earlier image handed over %q, which this binary cannot resume", name)
		}
	}
	return nil
}

// handoverParts are the services that hand their state to the next image
// in a switch, in the order they freeze (they thaw in reverse): the
// terminal sessions, whose clients are ended first; the port monitors,
// which look up processes; then the processes themselves.
func (s *services) handoverParts() []upgrade.NamedPart {
	var parts []upgrade.NamedPart
	if s.terminals != nil {
		parts = append(parts, upgrade.NamedPart{Name: partTerminals, Part: s.terminals})
	}
	return append(parts,
		upgrade.NamedPart{Name: partPorts, Part: s.ports},
		upgrade.NamedPart{Name: partProcesses, Part: s.processes})
}

// close stops the services' background work, the last built first. The
// process manager is shut down before, by shutdown.
func (s *services) close() {
	if s.terminals != nil {
		s.terminals.Close()
	}
	s.ports.Close()
	s.files.Close()
}

// startBootCommand starts --command before the first request is served, so
// a client that asks at once already sees it. The API stays up even if the
// command cannot start: it is how the failure gets investigated.
func startBootCommand(cfg config, mgr *process.Manager, logger *zap.Logger) {
	if cfg.command == "" {
		return
	}
	if _, err := mgr.Start(process.Spec{Command: cfg.command, Name: bootCommandName}); err != nil {
		logger.Error("boot command did not start", zap.String("command", cfg.command), zap.Error(err))
	} else {
		logger.Info("boot command started", zap.String("command", cfg.command))
	}
}

// recoverEarlierRun lists again the processes of the daemon that used the
// log folder before (process.Manager.RecoverEarlierRun) and says what it
// found. A failure is no reason not to serve: the daemon starts with no
// earlier records, and says why.
func recoverEarlierRun(mgr *process.Manager, logDir string, logger *zap.Logger) {
	rep, err := mgr.RecoverEarlierRun()
	if err != nil {
		logger.Warn("cannot list the processes of an earlier run", zap.String("log_dir", logDir), zap.Error(err))
		return
	}
	if rep.Processes == 0 && rep.Removed == 0 {
		return
	}
	fields := []zap.Field{zap.String("log_dir", logDir), zap.Int("processes", rep.Processes)}
	if rep.Removed > 0 {
		fields = append(fields, zap.Int("removed_files", rep.Removed))
	}
	if rep.SkippedLines > 0 {
		fields = append(fields, zap.Int("unreadable_journal_lines", rep.SkippedLines))
	}
	logger.Info("kept the records and output of an earlier run's processes", fields...)
	if len(rep.Unsupervised) > 0 {
		logger.Warn("the earlier daemon ended without stopping its processes: they are listed as failed and no longer supervised",
			zap.Strings("pids", rep.Unsupervised), zap.Strings("still_running", rep.StillRunning))
	}
}
