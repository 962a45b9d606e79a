// Package network tells which TCP ports the container's processes listen
// on, from /proc, and watches process trees for new listeners.
package network

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
	"github.com/sandbox-api/sandbox-api/process"
)

// ErrNotFound: no managed process has that pid or name.
var ErrNotFound = errors.New("process not found")

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
	closed   bool
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
	return &Service{cfg: cfg, ctx: ctx, cancelAll: cancel, monitors: map[string]*monitor{}}
}

// PortInfo is one listening socket.
type PortInfo struct {
	Port     int    `json:"port"`
	Address  string `json:"address"`
	Protocol string `json:"protocol"` // always "tcp"
	Family   string `json:"family"`   // "ipv4" or "ipv6"
	OwnerPID int    `json:"ownerPid"` // OS pid holding the socket
}

func portInfo(l listeners.Listener, owner int) PortInfo {
	fam := "ipv4"
	if l.IPv6 {
		fam = "ipv6"
	}
	return PortInfo{Port: l.Port, Address: l.Address, Protocol: "tcp", Family: fam, OwnerPID: owner}
}

// lookup finds a managed process by the pid string (or name) the process
// API answers.
func (s *Service) lookup(id string) (*process.Process, error) {
	if s.cfg.Processes == nil {
		return nil, ErrNotFound
	}
	p, err := s.cfg.Processes.Get(id)
	if err != nil {
		return nil, ErrNotFound
	}
	return p, nil
}

// ProcessPorts lists the ports on which the process or a descendant listens;
// an ended process has none.
func (s *Service) ProcessPorts(id string) (pid string, ports []PortInfo, err error) {
	p, err := s.lookup(id)
	if err != nil {
		return "", nil, err
	}
	ports, err = s.treePorts(p.OSPID())
	return p.PID(), ports, err
}

// treePorts lists the listeners held by root's process tree.
func (s *Service) treePorts(root int) ([]PortInfo, error) {
	if root <= 0 {
		return []PortInfo{}, nil
	}
	inodes, err := treeSockets(s.cfg.ProcRoot, root)
	if err != nil {
		return nil, err
	}
	return s.portsOf(inodes)
}

// portsOf lists the listeners among the given sockets.
func (s *Service) portsOf(inodes map[uint64]int) ([]PortInfo, error) {
	ports := []PortInfo{}
	if len(inodes) == 0 {
		return ports, nil // no socket: nothing can listen
	}
	ls, err := listeners.Read(s.cfg.ProcRoot)
	if err != nil {
		return nil, err
	}
	for _, l := range ls {
		if owner, ok := inodes[l.Inode]; ok {
			ports = append(ports, portInfo(l, owner))
		}
	}
	sortPorts(ports)
	return ports, nil
}

func sortPorts(ports []PortInfo) {
	sort.Slice(ports, func(i, j int) bool {
		if ports[i].Port != ports[j].Port {
			return ports[i].Port < ports[j].Port
		}
		return ports[i].Address < ports[j].Address
	})
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
