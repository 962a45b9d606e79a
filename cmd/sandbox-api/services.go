package main

import (
	"fmt"
	"slices"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/filesystem"
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
}

// The names the services' states go under in a switch to a new binary
// (upgrade.NamedPart).
const partProcesses = "process"

// newServices builds every service; an error has been logged. An image
// started by a switch resumes those that handed their state over (inh),
// and fails when it cannot resume one: the state would be lost.
func newServices(cfg config, logDir string, oomProtected bool, logger *zap.Logger, inh *upgrade.Inherited) (*services, error) {
	mgr, err := newProcessManager(process.Config{
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
	if err := checkAllResumed(inh, partProcesses); err != nil {
		logger.Error("cannot take over from the earlier image", zap.Error(err))
		return nil, err
	}
	files, err := filesystem.New(filesystem.Config{
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
	s := &services{
		processes: mgr,
		files:     files,
		watches:   watch.New(files, watch.Config{MaxFolders: cfg.bounds.maxWatchFolders}),
		ports:     network.New(network.Config{Processes: mgr, Logger: logger.Named("network")}),
	}
	if !cfg.terminal.disabled {
		s.terminals = terminal.NewManager(terminal.Config{Logger: logger.Named("terminal"), IdleTimeout: cfg.terminalIdle, MaxSessions: cfg.terminal.maxSessions, User: cfg.access.user})
	}
	return s, nil
}

// newProcessManager resumes the earlier image's processes, or starts
// afresh.
func newProcessManager(cfg process.Config, inh *upgrade.Inherited) (*process.Manager, error) {
	if inh == nil {
		return process.NewManager(cfg)
	}
	f, ok := inh.Part(partProcesses)
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
// in a switch, in the order they freeze (they thaw in reverse). The port
// monitors and the terminal sessions freeze before the processes they
// watch or run in.
func (s *services) handoverParts() []upgrade.NamedPart {
	return []upgrade.NamedPart{
		{Name: partProcesses, Part: s.processes},
	}
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
