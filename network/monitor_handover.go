package network

// Port monitors across the daemon's in-place re-exec (POST /upgrade,
// SIGUSR2). A monitor holds no descriptor the next image needs: it is a
// process to watch, a callback, the ports it knows open and the deliveries
// it has not made. Freeze writes those down; the next image goes on from
// them, so a port open before the switch is not sent again, and one opened
// during it is sent, as a new port, once the monitor looks again.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// monitorStateVersion numbers the format of the state Freeze writes.
// Resume refuses any other: a new format gets a new number, and a build
// that changes it reads the formats still in use by the builds it replaces.
const monitorStateVersion = 1

// ErrFrozen refuses to start or stop a monitor while the monitors are being
// handed over to the daemon's next image: a short window (the switch),
// after which the same request succeeds.
var ErrFrozen = errors.New("port monitors are being handed over to the daemon's next image; retry")

// frozenMonitors is what Freeze writes for the next image.
type frozenMonitors struct {
	Version  int             `json:"version"`
	Monitors []frozenMonitor `json:"monitors"`
}

// frozenMonitor is one monitor.
type frozenMonitor struct {
	// PID is the process API's pid of the process watched.
	PID      string `json:"pid"`
	Callback string `json:"callback"`
	// Seen are the ports known open: the next image does not send them
	// again, and sends any other it finds as new.
	Seen []frozenPort `json:"seen"`
	// Pending are the deliveries not made yet, in order, with the attempts
	// made at each.
	Pending []pendingPost `json:"pending"`
	// DrainLeft is set once the process has ended: the monitor then only
	// makes its pending deliveries, for at most this long.
	DrainLeft *time.Duration `json:"drainLeft,omitempty"`
}

// frozenPort is a port known open.
type frozenPort struct {
	Port    int    `json:"port"`
	Address string `json:"address"`
}

// Freeze halts every monitor, those still delivering after their process
// ended included, and returns their state for Resume (no descriptors). A
// callback attempt under way is let finish while ctx lasts, then cut and
// made again by the next image: the callback may then get that event
// twice, never zero times. Until Thaw, StartMonitor and StopMonitor fail
// with ErrFrozen; the port listings go on.
func (s *Service) Freeze(ctx context.Context) (handover.Frozen, error) {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return handover.Frozen{}, fmt.Errorf("freeze port monitors: %w", ErrClosed)
	}
	if s.frozen {
		s.mu.Unlock()
		return handover.Frozen{}, errors.New("freeze port monitors: already frozen")
	}
	s.frozen = true
	all := make([]*monitor, 0, len(s.running))
	for m := range s.running {
		all = append(all, m)
	}
	// A monitor just replaced by a new one for the same process still runs
	// until stopped: it is not handed over.
	listed := make(map[*monitor]bool, len(s.monitors))
	for _, m := range s.monitors {
		listed[m] = true
	}
	s.mu.Unlock()

	for _, m := range all {
		close(m.halt)
	}
	for _, m := range all {
		select {
		case <-m.done:
		case <-ctx.Done():
			m.cutPosts()
			<-m.done
		}
	}
	st := frozenMonitors{Version: monitorStateVersion, Monitors: []frozenMonitor{}}
	for _, m := range all {
		// Kept: halted, rather than stopped meanwhile. A monitor left
		// delivering after its process ended is no longer listed.
		if m.kept && (listed[m] || m.drainTimer != nil) {
			st.Monitors = append(st.Monitors, m.frozen())
		}
	}
	sort.Slice(st.Monitors, func(i, j int) bool { return st.Monitors[i].PID < st.Monitors[j].PID })
	raw, err := json.Marshal(st)
	s.mu.Lock()
	s.handed = st
	clear(s.monitors)
	s.mu.Unlock()
	if err != nil {
		return handover.Frozen{}, errors.Join(fmt.Errorf("freeze port monitors: write the state: %w", err), s.Thaw())
	}
	return handover.Frozen{State: raw}, nil
}

// Thaw goes on in this image after a Freeze whose switch was abandoned
// before the exec, as if nothing had happened: the monitors go on from the
// state Freeze wrote.
func (s *Service) Thaw() error {
	s.mu.Lock()
	if !s.frozen {
		s.mu.Unlock()
		return errors.New("thaw port monitors: not frozen")
	}
	st := s.handed
	s.handed = frozenMonitors{}
	s.mu.Unlock()
	s.restore(st)
	s.mu.Lock()
	s.frozen = false
	s.mu.Unlock()
	return nil
}

// Resume rebuilds, in the next image of the daemon, the monitors an
// earlier image froze. cfg.Processes must already hold the processes of
// the earlier image (resumed first): a monitor whose process it does not
// know is dropped, and logged.
func Resume(cfg Config, f handover.Frozen) (*Service, error) {
	var st frozenMonitors
	if err := f.ReadState(&st, monitorStateVersion); err != nil {
		return nil, fmt.Errorf("resume port monitors: %w", err)
	}
	s := New(cfg)
	s.restore(st)
	return s, nil
}

// frozen is the state of a halted monitor.
func (m *monitor) frozen() frozenMonitor {
	fm := frozenMonitor{PID: m.p.PID(), Callback: m.callback, Seen: []frozenPort{}, Pending: m.pending}
	if fm.Pending == nil {
		fm.Pending = []pendingPost{}
	}
	if m.drainTimer != nil {
		left := max(0, time.Until(m.drainEnd))
		fm.DrainLeft = &left
		return fm
	}
	for k := range m.seen {
		fm.Seen = append(fm.Seen, frozenPort{Port: k.port, Address: k.addr})
	}
	sort.Slice(fm.Seen, func(i, j int) bool {
		return portLess(Port{Port: fm.Seen[i].Port, Address: fm.Seen[i].Address}, Port{Port: fm.Seen[j].Port, Address: fm.Seen[j].Address})
	})
	return fm
}

// restore starts the monitors of st.
func (s *Service) restore(st frozenMonitors) {
	for _, fm := range st.Monitors {
		p, err := s.lookup(fm.PID)
		if err != nil {
			s.cfg.Logger.Warn("port monitor not resumed: its process is unknown", zap.String("pid", fm.PID), zap.Error(err))
			continue
		}
		m := newMonitor(s, p, fm.Callback)
		s.mu.Lock()
		s.running[m] = struct{}{}
		if fm.DrainLeft == nil {
			s.monitors[p.PID()] = m
		}
		s.mu.Unlock()
		if fm.DrainLeft != nil {
			// The process had ended: no poll, only the deliveries left.
			close(m.events)
			m.drainUntil(time.Now().Add(*fm.DrainLeft))
			go m.deliver(m.ctx, fm.Pending)
			continue
		}
		seen := make(map[portKey]bool, len(fm.Seen))
		for _, p := range fm.Seen {
			seen[portKey{p.Port, p.Address}] = true
		}
		m.start(seen, fm.Pending)
	}
}

// untrack drops a monitor whose goroutines have ended.
func (s *Service) untrack(m *monitor) {
	s.mu.Lock()
	delete(s.running, m)
	s.mu.Unlock()
}
