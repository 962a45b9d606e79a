// Package network tells which TCP ports the container's processes listen
// on, from /proc, and watches process trees for new listeners.
package network

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
	"github.com/sandbox-api/sandbox-api/process"
)

// ErrInvalidPID: the value is neither a pid nor the name of a managed
// process. A value that has the form of a pid but names no process is
// process.ErrNotFound, the process manager's own miss: one error for
// "no such process" whichever package looked. Match both with errors.Is.
var ErrInvalidPID = errors.New("invalid PID")

// Config wires a Service.
type Config struct {
	Processes *process.Manager
	Logger    *zap.Logger
	// ProcRoot is where procfs is mounted; tests may point it elsewhere.
	ProcRoot string
	// PollInterval is how often monitors look for new listeners.
	PollInterval time.Duration
	// Client posts monitor callbacks; its timeout bounds each attempt.
	Client *http.Client
}

// Service answers port questions and runs port monitors.
type Service struct {
	cfg Config

	// ctx is the parent of every monitor's context: Close cancels it, which
	// also ends monitors still delivering after their process ended.
	ctx       context.Context
	cancelAll context.CancelFunc

	mu       sync.Mutex
	monitors map[string]*monitor // by process pid string
	// running holds every monitor whose goroutines run, those still
	// delivering after their process ended included (they have left
	// monitors): Freeze halts them all.
	running map[*monitor]struct{}
	closed  bool
	// frozen: the monitors are being handed over to the daemon's next
	// image; handed is the state Freeze wrote, for Thaw
	// (monitor_handover.go).
	frozen bool
	handed frozenMonitors
}

// New makes a Service.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = zap.NewNop()
	}
	if cfg.ProcRoot == "" {
		cfg.ProcRoot = "/proc"
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 150 * time.Millisecond
	}
	if cfg.Client == nil {
		cfg.Client = &http.Client{Timeout: 3 * time.Second}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{cfg: cfg, ctx: ctx, cancelAll: cancel, monitors: map[string]*monitor{}, running: map[*monitor]struct{}{}}
}

// Port is one listening TCP socket and the process that holds it open.
type Port struct {
	Protocol string // always "tcp": only TCP sockets listen
	Address  string // textual IP the socket is bound to
	Port     int
	IPv6     bool
	// OwnerPID holds the socket (0 when its descriptors cannot be read,
	// e.g. another user's process); OwnerName is its /proc/<pid>/comm.
	OwnerPID  int
	OwnerName string
}

// Family is "ipv4" or "ipv6", as the API writes it.
func (p Port) Family() string { return family(p.IPv6) }

func family(ipv6 bool) string {
	if ipv6 {
		return "ipv6"
	}
	return "ipv4"
}

func portOf(procRoot string, l listeners.Listener, owner int) Port {
	p := Port{Protocol: "tcp", Address: l.Address, Port: l.Port, IPv6: l.IPv6, OwnerPID: owner}
	if owner > 0 {
		p.OwnerName = comm(procRoot, owner)
	}
	return p
}

// lookup finds a managed process by the pid string (or name) the process
// API answers. An unknown value is process.ErrNotFound when it has the
// form of a pid, else ErrInvalidPID.
func (s *Service) lookup(id string) (*process.Process, error) {
	if s.cfg.Processes != nil {
		if p, err := s.cfg.Processes.Get(id); err == nil {
			return p, nil
		}
	}
	if _, ok := parsePID(id); !ok {
		return nil, fmt.Errorf("%w: %q", ErrInvalidPID, id)
	}
	return nil, process.ErrNotFound
}

// parsePID reads a positive decimal pid, digits only.
func parsePID(s string) (int, bool) {
	if s == "" || s[0] < '1' || s[0] > '9' {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil && n > 0
}

// ProcessPorts lists the ports on which a process or a descendant listens.
// id is the pid string or name of a managed process (an ended one has no
// ports), or the pid of any live process of the container. pid is the
// process's pid as a number.
func (s *Service) ProcessPorts(id string) (pid int, ports []Port, err error) {
	root := 0
	p, err := s.lookup(id)
	switch {
	case err == nil:
		pid, _ = parsePID(p.PID())
		root = p.OSPID()
	case errors.Is(err, process.ErrNotFound):
		pid, _ = parsePID(id)
		if !alive(s.cfg.ProcRoot, pid) {
			return 0, nil, err
		}
		root = pid
	default:
		return 0, nil, err
	}
	ports, err = s.treePorts(root)
	return pid, ports, err
}

// treePorts lists the listeners held by root's process tree.
func (s *Service) treePorts(root int) ([]Port, error) {
	if root <= 0 {
		return []Port{}, nil
	}
	inodes, err := treeSockets(s.cfg.ProcRoot, root)
	if err != nil {
		return nil, err
	}
	return s.portsOf(inodes)
}

// portsOf lists the listeners among the given sockets.
func (s *Service) portsOf(inodes map[uint64]int) ([]Port, error) {
	ports := []Port{}
	if len(inodes) == 0 {
		return ports, nil // no socket: nothing can listen
	}
	ls, err := listeners.Read(s.cfg.ProcRoot)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if owner, ok := inodes[l.Inode]; ok {
			ports = append(ports, portOf(s.cfg.ProcRoot, l, owner))
		}
	}
	sort.Slice(ports, func(i, j int) bool { return portLess(ports[i], ports[j]) })
	return ports, nil
}

// portLess orders ports by number, then address.
func portLess(a, b Port) bool {
	if a.Port != b.Port {
		return a.Port < b.Port
	}
	return a.Address < b.Address
}

// Close stops every monitor, those still delivering included.
func (s *Service) Close() {
	s.cancelAll()
	s.mu.Lock()
	s.closed = true
	ms := s.monitors
	s.monitors = map[string]*monitor{}
	s.mu.Unlock()
	for _, m := range ms {
		m.stop()
	}
}
