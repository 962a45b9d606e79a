package process

import (
	"context"
	"fmt"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/listeners"
)

// ListeningPorts returns the TCP ports with a listener in this network
// namespace, on any address, IPv4 or IPv6, loopback included. It asks the
// kernel for listening sockets only (sock_diag), so its cost does not grow
// with the number of connections; /proc/net/tcp is the fallback.
func ListeningPorts() (map[int]bool, error) {
	ls, err := listeners.Read("/proc")
	if err != nil {
		return nil, fmt.Errorf("read listening sockets: %w", err)
	}
	ports := make(map[int]bool, len(ls))
	for _, l := range ls {
		ports[l.Port] = true
	}
	return ports, nil
}

// ValidatePorts checks a list of TCP ports to wait for, so that a request
// can be refused before anything starts.
func ValidatePorts(ports []int) error {
	for _, port := range ports {
		if port < 1 || port > 65535 {
			return invalidSpec("port %d is out of range 1-65535", port)
		}
	}
	return nil
}

// portsPollInterval is how often WaitForPorts asks for the listening
// sockets: one netlink dump of the listening table, cheap enough to do often.
const portsPollInterval = 20 * time.Millisecond

// WaitForPorts returns once every port has a listener. It gives up with
// ErrExited when the process ends first, and with ErrPortsTimeout after
// timeout (0: no limit).
func (p *Process) WaitForPorts(ctx context.Context, ports []int, timeout time.Duration) error {
	if err := ValidatePorts(ports); err != nil {
		return err
	}
	var expired <-chan time.Time
	if timeout > 0 {
		t := time.NewTimer(timeout)
		defer t.Stop()
		expired = t.C
	}
	tick := time.NewTicker(portsPollInterval)
	defer tick.Stop()
	for {
		open, err := ListeningPorts()
		if err != nil {
			return err
		}
		var missing []int
		for _, port := range ports {
			if !open[port] {
				missing = append(missing, port)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		select {
		case <-p.done:
			return fmt.Errorf("%w before ports %v opened", ErrExited, missing)
		case <-expired:
			return fmt.Errorf("%w: %v not listening after %s", ErrPortsTimeout, missing, timeout)
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
