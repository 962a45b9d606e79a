// Command sandbox-api is the daemon that runs inside a sandbox container and
// serves its HTTP API: processes and their output, files, watches, ports, a
// web terminal, MCP, and health.
//
// The daemon builds for Linux only: it runs in Linux containers and relies
// on inotify, pidfds, /proc, sock_diag and per-thread identities. Only the
// imagebuilder client library builds elsewhere.
//
// The files, by job: main.go runs the steps in order; flags*.go read the
// command line and the environment; access.go, token_linux.go, oom_linux.go,
// rlimit_linux.go and logdir.go prepare the process; services.go builds the
// domain services (or resumes them after a switch to a new binary);
// serve.go listens, serves and shuts down, front.go being the front door
// that pauses for a switch and start_gate.go holding the requests that
// come while the daemon starts; upgrades.go wires the upgrades in place
// (package upgrade), their signal and their roll-back; logger.go and
// logsink.go write the JSON log lines.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/procs"
	"github.com/sandbox-api/sandbox-api/internal/procs/atinit"
	"github.com/sandbox-api/sandbox-api/upgrade"
)

// Build information, stamped with -ldflags "-X main.version=...".
var (
	version   = "dev"
	gitCommit = "unknown"
	buildTime = "unknown"
)

func main() {
	growStackOnce(0)
	os.Exit(run(os.Args[1:]))
}

// growStackOnce grows the main goroutine's stack, at once, to what the
// start-up needs, while the stack is three frames deep. Otherwise it grows
// in the middle of the start-up, several frames deep (the first log line
// loads the time zone 24 frames down), and a growth copies the stack and
// reads the binary's tables for every frame on it: these scattered pages
// then stay mapped, about 0.2 MB of the idle daemon's RSS.
//
//go:noinline
func growStackOnce(i int) byte {
	var frame [48 << 10]byte
	frame[i] = 1
	return frame[len(frame)-1-i]
}

// run is the whole daemon, step by step; it returns the exit code.
func run(args []string) int {
	startedAt := time.Now()
	// One processor from the program's initialisation on (package
	// internal/procs/atinit says why so early; internal/procs why one).
	processors := procs.ForRuntime(atinit.Lowered(), procs.DefaultLinger)
	// An image started by a switch to a new binary (POST /upgrade,
	// SIGUSR2) takes the earlier image's state first: its descriptors
	// must be close-on-exec again before anything could start a child.
	inh, err := upgrade.Inherit()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		return 1
	}
	if inh != nil {
		startedAt = inh.StartedAt() // the daemon never stopped
	}
	// The signals' registration takes the longest of the start-up
	// (startHandlingSignals), so it starts first; but after configure when
	// this image may execute another one: itself again without the token
	// (token_linux.go), or, for an image started by a switch, the earlier
	// binary when configure refuses the command line (rollBack). A signal
	// caught before that execve would be lost.
	var signals func() (context.Context, <-chan os.Signal, context.CancelFunc)
	if inh == nil && !tokenMayReexec(args) {
		signals = startHandlingSignals()
	}
	cfg, tokenWarning, exit, ok := configure(args, inh)
	if !ok {
		if inh != nil {
			return rollBack(inh, fmt.Errorf("this binary refused the command line (exit %d)", exit), nil)
		}
		return exit
	}
	if signals == nil {
		signals = startHandlingSignals()
	}
	logger, err := newLogger()
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		if inh != nil {
			return rollBack(inh, err, nil)
		}
		return 1
	}
	defer func() { _ = logger.Sync() }() // stderr cannot always sync; nothing to do about it
	// fail ends a start that cannot go on. An image started by a switch
	// gives everything back to the earlier binary instead (rollBack).
	fail := func(cause error) int {
		if inh != nil {
			return rollBack(inh, cause, logger)
		}
		return 1
	}
	if err := checkAccess(cfg, tokenWarning, logger); err != nil {
		logger.Error("cannot run the workload as its user", zap.Error(err))
		return fail(err)
	}
	maxConns := cfg.conns.maxConnections(raiseOpenFileLimit(logger))
	ln, err := listen(cfg, inh, logger)
	if err != nil {
		return fail(err) // listen has logged why
	}
	// A fresh start serves at once, through the start gate (start_gate.go).
	// An image started by a switch serves once it is whole: until then it
	// may still give the socket back to the earlier image (rollBack), and
	// the clients wait in the socket's backlog meanwhile.
	gate := newStartGate[*services]()
	f, err := newFront(ln, maxConns, func(conns *connlimit.Limiter) (*http.Server, requestEnds) {
		return newHTTPServer(cfg, gate, conns, startedAt, logger)
	}, logger)
	if err != nil {
		logger.Error("cannot serve", zap.Error(err))
		_ = ln.Close()
		return fail(err)
	}
	if inh == nil {
		f.start()
	}
	svc, logDirLock, logDir, err := startServices(cfg, inh, logger)
	if err != nil {
		gate.fail()
		if inh == nil {
			f.drain(func() { _ = ln.Close() }, nil) // the requests that waited get their 503
		} else {
			_ = ln.Close()
		}
		return fail(err) // startServices has logged why
	}
	svc.processors = processors
	defer logDirLock.Close() // held, and kept from the garbage collector, until the end
	defer svc.close()
	if inh != nil && refuseHandover != "" {
		return fail(errors.New("this build refuses every hand-over (main.refuseHandover, a test build)"))
	}
	newUpgrader(cfg, inh, svc, logger)
	// The API is built, and the first log line written (which loads the
	// time zone), while the signals' registration ends (a round trip to the
	// runtime's signal thread per signal, 50 to 200 µs each here): neither
	// is then on the first request's way.
	gate.prepare(svc)
	announce(f, logDir, cfg.token, logger)
	ctx, upgradeSignals, stop := signals()
	defer stop()
	attachUpgrader(cfg, svc, f, logDirLock, startedAt, ctx.Done(), logger)
	go upgradeOnSignal(ctx, upgradeSignals, svc.upgrades, logger)
	if inh == nil {
		startBootCommand(cfg, svc.processes, logger)
	} else {
		// The commit point: everything is resumed; this image serves.
		inh.Commit()
		last, count := svc.upgrades.Status()
		logger.Info("took over from the earlier image", zap.String("version", version),
			zap.String("upgrade", string(last.State)), zap.String("error", last.Error), zap.Int("upgrade_count", count))
	}
	gate.open()
	moveTextLater(cfg.textHugePages, logger)
	// The requests that waited at the gate were made runnable on this
	// thread's queue: they run now, here, instead of once another thread
	// wakes up for them (some 60 µs here).
	runtime.Gosched()
	if inh != nil {
		f.start()
	}
	exit = serve(ctx, f, logger)
	svc.upgrades.Close() // a switch under way ends first
	shutdown(f, svc.processes, cfg.shutdownGrace, logger)
	return exit
}

// startServices protects the daemon from the OOM killer, takes its log
// folder and builds the services (or resumes them, after a switch); an
// error has been logged.
func startServices(cfg config, inh *upgrade.Inherited, logger *zap.Logger) (svc *services, logDirLock *os.File, logDir string, err error) {
	oomProtected := protectFromOOMKiller(logger)
	logDir, logDirLock, err = chooseLogDir(cfg, inh, logger)
	if err != nil {
		return nil, nil, "", err // chooseLogDir has logged why
	}
	svc, err = newServices(cfg, logDir, oomProtected, logger, inh)
	if err != nil {
		if inh == nil {
			_ = logDirLock.Close() // a handed-over lock goes back with the roll-back
		}
		return nil, nil, "", err // newServices has logged why
	}
	return svc, logDirLock, logDir, nil
}

// configure reads the command line and hides the token; ok is false when
// the daemon must exit at once, with exit. An image started by a switch
// (inh) takes the token and the workload's user from the state instead:
// the token never was in its environment or command line.
func configure(args []string, inh *upgrade.Inherited) (cfg config, tokenWarning error, exit int, ok bool) {
	cfg, err := parseFlags(args, os.Getenv, os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return cfg, nil, 0, false
	}
	if err != nil {
		return cfg, nil, 2, false // parseFlags has said why
	}
	if cfg.showVersion {
		fmt.Printf("sandbox-api %s (commit %s, built %s, %s)\n", version, gitCommit, buildTime, handover.VersionNote())
		return cfg, nil, 0, false
	}
	if inh != nil {
		restoreName()
		keepMemoryPrivate()
		cfg.token, cfg.access.user = inh.Token(), inh.User()
		return cfg, nil, 0, true
	}
	// The token out of the environment and command line (token_linux.go):
	// this may execute the daemon again, so it comes before anything else.
	tokenWarning, err = secureToken(&cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "sandbox-api:", err)
		return cfg, nil, 2, false
	}
	return cfg, tokenWarning, 0, true
}

// startHandlingSignals registers the daemon's signals on a goroutine of
// its own and returns what waits for those that matter from a first
// answer on: SIGTERM (a stop) and SIGUSR2 (an upgrade), which a client may
// send as soon as /health answers. Each signal the runtime starts to watch
// is a round trip to the runtime's signal thread, which the first one
// creates: 50 to 200 µs per signal here, that the rest of the start-up
// does not wait for. SIGINT and SIGHUP, which come from a terminal, and
// SIGPIPE are registered after them, while the daemon may already answer:
// the log lines do not need SIGPIPE's (logOutput), only the messages of a
// failed roll-back written to stderr itself. A signal that comes before
// its handler is in place meets the default, as one that comes before the
// daemon runs at all.
//
// The context is done on SIGTERM, SIGINT or SIGHUP; the channel gets
// SIGUSR2 (an upgrade to the binary at the daemon's own path); the
// CancelFunc stops the handling and cancels the context. run calls it as
// it returns, after the shutdown: a second stop signal during the shutdown
// is caught and changes nothing (--shutdown-grace bounds the shutdown).
// Signals are handled from the start: as PID 1 the kernel would ignore
// them, and the Go runtime drops a SIGUSR2 nobody is notified of. SIGHUP
// (a closed terminal of `make run`) ends the daemon as cleanly as SIGTERM:
// left at its default, it killed the daemon and orphaned every process
// tree.
func startHandlingSignals() func() (context.Context, <-chan os.Signal, context.CancelFunc) {
	type handled struct {
		ctx      context.Context
		upgrades <-chan os.Signal
		stop     context.CancelFunc
	}
	ready := make(chan handled, 1)
	go func() {
		stops := make(chan os.Signal, 1)
		signal.Notify(stops, syscall.SIGTERM)
		upgrades := make(chan os.Signal, 1)
		signal.Notify(upgrades, syscall.SIGUSR2)
		ctx, cancel := context.WithCancel(context.Background())
		go func() {
			select {
			case <-stops:
				cancel()
			case <-ctx.Done():
			}
		}()
		registered := make(chan struct{})
		stop := func() {
			<-registered // else a late Notify would undo the Stop
			signal.Stop(stops)
			cancel()
		}
		ready <- handled{ctx, upgrades, stop}
		signal.Notify(stops, syscall.SIGINT, syscall.SIGHUP)
		survivePipeSignals()
		close(registered)
	}()
	return func() (context.Context, <-chan os.Signal, context.CancelFunc) {
		h := <-ready
		return h.ctx, h.upgrades, h.stop
	}
}

// survivePipeSignals keeps a stderr whose reader went away from killing
// the daemon when it writes there itself (logOutput's copy needs no help):
// Go exits on SIGPIPE from a write to fd 1 or 2 unless the signal is
// notified. It is notified, not ignored, because an ignored signal is
// inherited through exec and the processes the daemon starts rely on
// SIGPIPE (yes | head).
func survivePipeSignals() {
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
}
