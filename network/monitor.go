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
	cancel   context.CancelFunc
	done     chan struct{}
	once     sync.Once
	// drainTimer bounds delivery after the process ended; poll sets it.
	drainTimer *time.Timer
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
	ctx, cancel := context.WithCancel(s.ctx)
	m := &monitor{s: s, p: p, callback: callback, events: make(chan PortEvent, callbackQueue),
		cancel: cancel, done: make(chan struct{})}
	known, err := s.treePorts(p.OSPID())
	if err != nil {
		cancel()
		return "", fmt.Errorf("read ports of %s: %w", p.PID(), err)
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		cancel()
		return "", ErrClosed
	}
	old := s.monitors[p.PID()]
	s.monitors[p.PID()] = m
	s.mu.Unlock()
	if old != nil {
		old.stop()
	}
	go m.poll(ctx, known)
	go m.deliver(ctx)
	return p.PID(), nil
}

// StopMonitor ends the process's monitor; false when none runs.
func (s *Service) StopMonitor(id string) (string, bool, error) {
	p, err := s.lookup(id)
	if err != nil {
		return "", false, err
	}
	s.mu.Lock()
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

// poll watches the tree every interval. An idle tick is one sock_diag dump
// of the LISTEN sockets (tens of microseconds) compared with the previous
// one; the process tree is walked only when that set changed. It closes
// events when it ends; when the process ended (rather than a stop), the
// events already found are still delivered, for at most drainMax.
func (m *monitor) poll(ctx context.Context, known []Port) {
	defer close(m.events)
	defer m.forget()
	seen := map[portKey]bool{}
	for _, p := range known {
		seen[portKey{p.Port, p.Address}] = true
	}
	var last map[uint64]bool
	tick := time.NewTicker(m.s.cfg.PollInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.p.Done():
			m.drainTimer = time.AfterFunc(drainMax, func() { m.once.Do(m.cancel) })
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

// deliver posts events in order, in its own goroutine so that a slow
// callback never delays detection, until poll has closed events and the
// queue is empty. Once ctx is cancelled, the rest of the queue is dropped.
func (m *monitor) deliver(ctx context.Context) {
	defer close(m.done)
	defer m.once.Do(m.cancel)
	defer func() {
		// Set by poll before it closed events, so visible here.
		if m.drainTimer != nil {
			m.drainTimer.Stop()
		}
	}()
	for ev := range m.events {
		if ctx.Err() != nil {
			continue // stopped: drain without posting
		}
		m.post(ctx, ev)
	}
}

// post tries a few times with a short backoff; the client timeout bounds
// each try.
func (m *monitor) post(ctx context.Context, ev PortEvent) {
	body, _ := json.Marshal(ev)
	backoff := 200 * time.Millisecond
	for attempt := 1; attempt <= callbackAttempts; attempt++ {
		err := m.postOnce(ctx, body)
		if err == nil {
			return
		}
		m.s.cfg.Logger.Warn(fmt.Sprintf("port callback attempt %d: %v", attempt, err))
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff *= 2
	}
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
