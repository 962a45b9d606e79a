package main

import (
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/terminal"
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
}

// newServices builds every service; an error has been logged.
func newServices(cfg config, logDir string, oomProtected bool, logger *zap.Logger) (*services, error) {
	mgr, err := process.NewManager(process.Config{
		LogDir:                logDir,
		MaxLogBytesPerProcess: cfg.maxLogProcessBytes,
		MaxLogBytesTotal:      cfg.maxLogTotalBytes,
		MaxEndedProcesses:     cfg.maxEndedProcesses,
		Logger:                logger.Named("process"),
		Reap:                  true,
		ResetChildOOMScore:    oomProtected,
		User:                  cfg.access.user,
	})
	if err != nil {
		logger.Error("cannot start the process manager", zap.Error(err))
		return nil, err
	}
	recoverEarlierRun(mgr, logDir, logger)
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
