package upgrade

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/handover"
	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// Config tunes an Upgrader. Zero values take the documented defaults.
type Config struct {
	Version string // this binary's version, for the download's User-Agent
	// BaseURL is the operator's release site (--upgrade-base-url): the
	// default of a request, and under Restricted the only one.
	BaseURL string
	Dir     string // the upgrade folder; default DefaultDir()
	// Restricted is --user: the workload must not choose what runs as
	// root. Only BaseURL is fetched from, with a sha256, and a binaryPath
	// must be root's and writable by nobody else, its folders too.
	Restricted bool
	// OwnPath is the daemon's own binary, which SIGUSR2 (OwnBinary)
	// switches to.
	OwnPath         string
	MaxBytes        int64         // default DefaultMaxBinaryBytes
	DownloadTimeout time.Duration // default DefaultDownloadTimeout
	VersionTimeout  time.Duration // default DefaultVersionTimeout
	FreezeWait      time.Duration // default DefaultFreezeWait
	Client          *http.Client  // default: the system's proxy settings and CA roots
	// Children runs the new binary's --version as a child the daemon's
	// reaper leaves alone (process.Manager); default: cmd.Run.
	Children ChildRunner
	Logger   *zap.Logger
}

// httpClient is Client, or one with the system's proxy settings and CA
// roots. Made on the first download, not at New: cloning the default
// transport sets up its HTTP/2 defaults, some 25 µs of every start.
func (c *Config) httpClient() *http.Client {
	if c.Client != nil {
		return c.Client
	}
	return &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
}

// ChildRunner runs a command to its end.
type ChildRunner interface {
	RunChild(cmd *exec.Cmd) error
}

type plainRunner struct{}

func (plainRunner) RunChild(cmd *exec.Cmd) error { return cmd.Run() }

func (c *Config) setDefaults() {
	if c.Dir == "" {
		c.Dir = DefaultDir()
	}
	if c.MaxBytes <= 0 {
		c.MaxBytes = DefaultMaxBinaryBytes
	}
	if c.DownloadTimeout <= 0 {
		c.DownloadTimeout = DefaultDownloadTimeout
	}
	if c.VersionTimeout <= 0 {
		c.VersionTimeout = DefaultVersionTimeout
	}
	if c.FreezeWait <= 0 {
		c.FreezeWait = DefaultFreezeWait
	}
	if c.Children == nil {
		c.Children = plainRunner{}
	}
	if c.Logger == nil {
		c.Logger = zap.NewNop()
	}
}

// Part is a service that hands its state to the next image of the daemon
// (process.Manager; terminal.Manager and network.Service likewise). Freeze
// stops its work without closing what the next image resumes, and serves
// nothing more; Thaw goes on in this image when the switch is abandoned
// before the exec.
type Part interface {
	Freeze(ctx context.Context) (handover.Frozen, error)
	Thaw() error
}

// NamedPart is a Part and the name its state goes under; the next image
// resumes it from Inherited.Part(name).
type NamedPart struct {
	Name string
	Part Part
}

// Front is the daemon's HTTP front door as the switch sees it.
type Front interface {
	// Pause stops accepting connections, which wait in the listening
	// socket's backlog meanwhile, and ends the requests in flight, within
	// a bound; the socket stays open.
	Pause()
	// Resume serves again: the switch was abandoned.
	Resume()
}

// Daemon is the running daemon as a switch takes it over, wired by main.
type Daemon struct {
	Front    Front
	Parts    []NamedPart  // in the order they freeze; they thaw in reverse
	Listener syscall.Conn // the listening socket, handed on
	// Lock is the log folder's lock, handed on when set: the next image
	// adopts it (Inherited.Lock), since a new lock would conflict with
	// this one.
	Lock      *os.File
	Token     string
	User      *runas.User
	StartedAt time.Time
	// Args are the next image's arguments, without the program name and
	// without the token or its file (the token goes in the state).
	Args []string
	// Stopping is closed once the daemon is asked to stop: a switch not
	// yet executed is abandoned, so that the stop is not lost with it.
	Stopping <-chan struct{}
	// BeforeExec runs just before the exec: the last log lines out.
	BeforeExec func()
}

// Upgrader runs the upgrades of the daemon, one at a time.
type Upgrader struct {
	cfg    Config
	client func() *http.Client // cfg.Client, or the default made on first use
	ctx    context.Context     // ends at Close: a download under way stops
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu      sync.Mutex
	daemon  *Daemon
	status  Status
	count   int
	running bool
	closed  bool
}

// New returns an Upgrader with the history earlier images left (the zero
// History on a first start). It upgrades nothing until Attach.
func New(cfg Config, h History) *Upgrader {
	cfg.setDefaults()
	u := &Upgrader{cfg: cfg, status: h.Last, count: h.Count}
	u.client = sync.OnceValue(u.cfg.httpClient)
	if u.status.State == "" {
		u.status = idle
	}
	u.ctx, u.cancel = context.WithCancel(context.Background())
	return u
}

// Attach gives the Upgrader the daemon it switches: once the front door
// and the services exist.
func (u *Upgrader) Attach(d Daemon) {
	u.mu.Lock()
	defer u.mu.Unlock()
	u.daemon = &d
}

// Status is the last upgrade (or the one running) and the number of
// upgrades completed since the daemon started.
func (u *Upgrader) Status() (Status, int) {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.status, u.count
}

// Start checks r and starts the upgrade in the background; the status
// says how it goes. Errors: ErrInvalidRequest, ErrNoBaseURL, ErrNotAllowed
// (nothing happened), ErrInProgress, ErrUnavailable.
func (u *Upgrader) Start(r Request) error {
	p, err := u.plan(r)
	if err != nil {
		return err
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	switch {
	case u.closed || u.daemon == nil:
		return ErrUnavailable
	case u.running:
		return ErrInProgress
	}
	u.running = true
	u.status = Status{State: StateRunning, Step: StepStarting, Version: p.version, DownloadURL: p.url, LastAttempt: time.Now().UTC()}
	u.wg.Add(1)
	go u.run(p)
	u.cfg.Logger.Info("upgrade started", zap.String("version", p.version), zap.String("url", p.url), zap.String("binary_path", p.path))
	return nil
}

// Close stops a download or check under way and waits for it; a switch
// under way ends first (executed, or abandoned). No upgrade starts after.
func (u *Upgrader) Close() {
	u.mu.Lock()
	u.closed = true
	u.mu.Unlock()
	u.cancel()
	u.wg.Wait()
}

// run is one upgrade, step by step; it returns only when it failed.
func (u *Upgrader) run(p plan) {
	defer u.wg.Done()
	if err := prepareDir(u.cfg.Dir); err != nil {
		u.fail(StepStarting, "", err)
		return
	}
	u.update(func(s *Status) { s.Step = StepDownload })
	path, sum, err := u.fetch(u.ctx, p)
	if err != nil {
		u.fail(StepDownload, "", err)
		return
	}
	u.update(func(s *Status) { s.Step, s.BinaryPath = StepValidate, path })
	version, err := u.validate(path, sum, p)
	if err != nil {
		u.fail(StepValidate, path, err)
		return
	}
	if u.ctx.Err() != nil {
		u.fail(StepValidate, path, fmt.Errorf("%w: the daemon is stopping", ErrUnavailable))
		return
	}
	var status Status
	u.update(func(s *Status) {
		s.Step = StepReplace
		if s.Version == "" {
			s.Version = version
		}
		status = *s
	})
	u.cfg.Logger.Info("switching to the new binary", zap.String("binary", path), zap.String("version", version))
	err = u.switchTo(path, status)
	u.fail(StepReplace, path, err) // switchTo returned: the switch did not happen
}

// validate checks the staged binary: its sha256 when one was asked for,
// its ELF header, then its answer to --version (the first time anything of
// it runs). It returns the version the binary says.
func (u *Upgrader) validate(path, sum string, p plan) (string, error) {
	if p.sha256 != "" && sum != p.sha256 {
		return "", fmt.Errorf("%w: the binary's is %s, the request said %s", ErrChecksum, sum, p.sha256)
	}
	if err := checkExecutable(path); err != nil {
		return "", err
	}
	return u.askVersion(u.ctx, path)
}

// progress records the bytes fetched so far.
func (u *Upgrader) progress(n int64) {
	u.update(func(s *Status) { s.BytesDownloaded = n })
}

func (u *Upgrader) update(change func(*Status)) {
	u.mu.Lock()
	defer u.mu.Unlock()
	change(&u.status)
}

// fail ends the upgrade at step, saying why; staged is the binary fetched
// for it, removed.
func (u *Upgrader) fail(step Step, staged string, err error) {
	if staged != "" {
		_ = os.Remove(staged)
	}
	u.mu.Lock()
	u.status.State, u.status.Step, u.status.Error = StateFailed, step, err.Error()
	u.running = false
	u.mu.Unlock()
	u.cfg.Logger.Warn("upgrade failed; the daemon goes on unchanged", zap.String("step", string(step)), zap.Error(err))
}
