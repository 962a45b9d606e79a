package network

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
	"github.com/sandbox-api/sandbox-api/process"
)

// PortEvent is what a monitor POSTs to its callback for each new listener.
type PortEvent struct {
	PID     string `json:"pid"` // the managed process's pid string
	Port    int    `json:"port"`
	Address string `json:"address"`
	Family  string `json:"family"`
	Event   string `json:"event"` // always "open"
}

const (
	callbackAttempts = 3
	callbackQueue    = 256 // events beyond this while the callback lags are dropped
	// drainMax bounds how long the events found before the process ended
	// are still delivered after it ended.
	drainMax = 30 * time.Second
)

// ErrClosed: the service is shutting down and takes no new monitors.
var ErrClosed = errors.New("network service closed")

// monitor polls one process tree and reports new listeners.
type monitor struct {
	s        *Service
	p        *process.Process
	callback string
	events   chan PortEvent
	ctx      context.Context // cancelled: stopped, the deliveries not made dropped
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
	// drainTimer bounds delivery after the process ended; poll sets it,
	// and drainEnd to when it fires.
	drainTimer *time.Timer
	drainEnd   time.Time

	// Freeze (monitor_handover.go) closes halt: the goroutines stop and
	// leave what the next image needs, seen and pending. posts is the
	// context of each callback attempt, which Freeze cuts past its own
	// deadline (cutPosts).
	halt     chan struct{}
	posts    context.Context
	cutPosts context.CancelFunc
	seen     map[portKey]bool // the ports known open when poll halted
	pending  []pendingPost    // the deliveries not made when deliver halted
	kept     bool             // deliver halted before the monitor was stopped
}

// pendingPost is an event to deliver and the attempts already made at it.
type pendingPost struct {
	Event    PortEvent `json:"event"`
	Attempts int       `json:"attempts"`
}

// newMonitor makes a monitor of p, its goroutines not started.
func newMonitor(s *Service, p *process.Process, callback string) *monitor {
	ctx, cancel := context.WithCancel(s.ctx)
	posts, cutPosts := context.WithCancel(ctx)
	return &monitor{s: s, p: p, callback: callback, events: make(chan PortEvent, callbackQueue),
		ctx: ctx, cancel: cancel, done: make(chan struct{}), halt: make(chan struct{}),
		posts: posts, cutPosts: cutPosts}
}

// start runs the monitor's goroutines: poll from the ports in seen, and
// deliver from the posts carried over from an earlier image, if any.
func (m *monitor) start(seen map[portKey]bool, carried []pendingPost) {
	go m.poll(m.ctx, seen)
	go m.deliver(m.ctx, carried)
}

// ValidateCallback accepts absolute http(s) URLs only.
func ValidateCallback(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("callback must be an absolute http or https URL")
	}
	return nil
}

// StartMonitor watches the process's tree and POSTs each newly opened port
// to callback. A second start for the same process replaces the first.
// Ports already open now are not reported.
func (s *Service) StartMonitor(id, callback string) (string, error) {
	if err := ValidateCallback(callback); err != nil {
		return "", err
	}
	p, err := s.lookup(id)
	if err != nil {
		return "", err
	}
	m := newMonitor(s, p, callback)
	known, err := s.treePorts(p.OSPID())
	if err != nil {
		m.cancel()
		return "", fmt.Errorf("read ports of %s: %w", p.PID(), err)
	}
	seen := map[portKey]bool{}
	for _, p := range known {
		seen[portKey{p.Port, p.Address}] = true
	}
	s.mu.Lock()
	if err := s.refuseLocked(); err != nil {
		s.mu.Unlock()
		m.cancel()
		return "", err
	}
	old := s.monitors[p.PID()]
	s.monitors[p.PID()] = m
	s.running[m] = struct{}{}
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}
	m.start(seen, nil)
	return p.PID(), nil
}

// refuseLocked tells why no monitor may start or stop now, if so. s.mu is
// held.
func (s *Service) refuseLocked() error {
	switch {
	case s.closed:
		return ErrClosed
	case s.frozen:
		return ErrFrozen
	}
	return nil
}

// StopMonitor ends the process's monitor; false when none runs.
func (s *Service) StopMonitor(id string) (string, bool, error) {
	p, err := s.lookup(id)
	if err != nil {
		return "", false, err
	}
	s.mu.Lock()
	if err := s.refuseLocked(); err != nil {
		s.mu.Unlock()
		return "", false, err
	}
	m := s.monitors[p.PID()]
	delete(s.monitors, p.PID())
	s.mu.Unlock()
	if m == nil {
		return p.PID(), false, nil
	}
	m.stop()
	return p.PID(), true, nil
}

// stop ends the monitor at once: events not yet posted are dropped, as
// asked. It returns when both goroutines are gone.
func (m *monitor) stop() {
	m.once.Do(m.cancel)
	<-m.done
}

// forget drops the monitor from the service when it ends on its own.
func (m *monitor) forget() {
	m.s.mu.Lock()
	if m.s.monitors[m.p.PID()] == m {
		delete(m.s.monitors, m.p.PID())
	}
	m.s.mu.Unlock()
}

type portKey struct {
	port int
	addr string
}

// poll watches the tree every interval, seen being the ports known open.
// An idle tick is one sock_diag dump of the LISTEN sockets (tens of
// microseconds) compared with the previous one; the process tree is walked
// only when that set changed. It closes events when it ends; when the
// process ended (rather than a stop), the events already found are still
// delivered, for at most drainMax. Halted, it leaves seen to Freeze and
// stays in the service's table.
func (m *monitor) poll(ctx context.Context, seen map[portKey]bool) {
	defer close(m.events)
	halted := false
	defer func() {
		if !halted {
			m.forget()
		}
	}()
	var last map[uint64]bool
	tick := time.NewTicker(m.s.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.halt:
			halted, m.seen = true, seen
			return
		case <-m.p.Done():
			m.drainUntil(time.Now().Add(drainMax))
			return
		case <-tick.C:
		}
		ls, table, changed, err := listenersChanged(m.s.cfg.ProcRoot, last)
		if err != nil {
			m.s.cfg.Logger.Warn("read listeners: " + err.Error())
			continue
		}
		if !changed {
			continue
		}
		sockets, err := treeSockets(m.s.cfg.ProcRoot, m.p.OSPID())
		if err != nil {
			m.s.cfg.Logger.Warn("list sockets: " + err.Error())
			continue
		}
		last = table
		current := map[portKey]bool{}
		for _, l := range ls {
			if _, ours := sockets[l.Inode]; !ours {
				continue
			}
			k := portKey{l.Port, l.Address}
			current[k] = true
			if !seen[k] {
				m.enqueue(PortEvent{PID: m.p.PID(), Port: l.Port, Address: l.Address, Family: family(l.IPv6), Event: "open"})
			}
		}
		// A port closed and reopened is new again.
		seen = current
	}
}

// listenersChanged reads the listener table and tells whether its set of
// sockets differs from last (nil: first look, always a change).
func listenersChanged(procRoot string, last map[uint64]bool) ([]listeners.Listener, map[uint64]bool, bool, error) {
	ls, err := listeners.Read(procRoot)
	if err != nil {
		return nil, nil, false, err
	}
	table := make(map[uint64]bool, len(ls))
	changed := last == nil || len(ls) != len(last)
	for _, l := range ls {
		table[l.Inode] = true
		if !last[l.Inode] {
			changed = true
		}
	}
	return ls, table, changed, nil
}

// enqueue hands an event to the delivery goroutine without ever blocking.
func (m *monitor) enqueue(ev PortEvent) {
	select {
	case m.events <- ev:
	default:
		m.s.cfg.Logger.Warn(fmt.Sprintf("port callback lagging, dropped port %d", ev.Port))
	}
}

// drainUntil bounds the deliveries left once the process has ended.
func (m *monitor) drainUntil(end time.Time) {
	m.drainEnd = end
	m.drainTimer = time.AfterFunc(time.Until(end), func() { m.once.Do(m.cancel) })
}

// deliver posts the events carried over from an earlier image, then
// events, in order, in its own goroutine so that a slow callback never
// delays detection, until poll has closed events and the queue is empty.
// Once ctx is cancelled, the rest of the queue is dropped; once halted, it
// is kept in pending, for the next image.
func (m *monitor) deliver(ctx context.Context, carried []pendingPost) {
	defer close(m.done)
	defer m.once.Do(m.cancel)
	defer func() {
		// Set by poll before it closed events, so visible here.
		if m.drainTimer != nil {
			m.drainTimer.Stop()
		}
	}()
	defer m.s.untrack(m)
	next := func(p pendingPost) {
		switch {
		case ctx.Err() != nil: // stopped: drain without posting
		case m.halted():
			m.pending = append(m.pending, p)
		default:
			if left, halted := m.post(ctx, p); halted {
				m.pending = append(m.pending, left)
			}
		}
	}
	for _, p := range carried {
		next(p)
	}
	for ev := range m.events {
		next(pendingPost{Event: ev})
	}
	m.kept = m.halted() && ctx.Err() == nil
}

// halted reports whether Freeze has halted the monitor.
func (m *monitor) halted() bool {
	select {
	case <-m.halt:
		return true
	default:
		return false
	}
}

// backoffBase is the wait after a first failed attempt; it doubles after
// each further one.
const backoffBase = 200 * time.Millisecond

// post goes on with p's attempts, up to callbackAttempts, with a short
// backoff between them; the client timeout bounds each. Halted between two
// attempts, or during one that Freeze cut, it returns p with the attempts
// actually made (a cut attempt is not one: the callback's answer is
// unknown, and it is made again).
func (m *monitor) post(ctx context.Context, p pendingPost) (left pendingPost, halted bool) {
	body, _ := json.Marshal(p.Event)
	for p.Attempts < callbackAttempts {
		err := m.postOnce(m.posts, body)
		if err == nil {
			return p, false
		}
		if m.posts.Err() != nil && ctx.Err() == nil {
			return p, true // cut by Freeze
		}
		p.Attempts++
		m.s.cfg.Logger.Warn(fmt.Sprintf("port callback attempt %d: %v", p.Attempts, err))
		if p.Attempts == callbackAttempts {
			break
		}
		select {
		case <-ctx.Done():
			return p, false
		case <-m.halt:
			return p, true
		case <-time.After(backoffBase << (p.Attempts - 1)):
		}
	}
	return p, false
}

func (m *monitor) postOnce(ctx context.Context, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, m.callback, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("build callback request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := m.s.cfg.Client.Do(req)
	if err != nil {
		return fmt.Errorf("post callback: %w", err)
	}
	resp.Body.Close()
	if resp.StatusCode >= 300 {
		return fmt.Errorf("callback answered %s", resp.Status)
	}
	return nil
}
