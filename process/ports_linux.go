package process

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"time"
)

// tcpListenState is the kernel's code for LISTEN in /proc/net/tcp.
const tcpListenState = "0A"

// ListeningPorts returns the TCP ports with a listener in this network
// namespace, on any address, IPv4 or IPv6, loopback included.
func ListeningPorts() (map[int]bool, error) {
	ports := map[int]bool{}
	for _, path := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := readListeners(path, ports); err != nil && !os.IsNotExist(err) {
			return nil, err
		}
	}
	return ports, nil
}

func readListeners(path string, ports map[int]bool) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		fields := bytes.Fields(sc.Bytes())
		if len(fields) < 4 || string(fields[3]) != tcpListenState {
			continue
		}
		local := fields[1] // ADDR:PORT, hex
		i := bytes.LastIndexByte(local, ':')
		if i < 0 {
			continue
		}
		if port, err := strconv.ParseUint(string(local[i+1:]), 16, 16); err == nil {
			ports[int(port)] = true
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	return nil
}

// ValidatePorts checks a list of TCP ports to wait for, so that a request
// can be refused before anything starts.
func ValidatePorts(ports []int) error {
	for _, port := range ports {
		if port < 1 || port > 65535 {
			return fmt.Errorf("%w: port %d is out of range 1-65535", ErrInvalidSpec, port)
		}
	}
	return nil
}

// portsPollInterval is how often WaitForPorts looks at /proc/net/tcp: a
// read of a small kernel table, cheap enough to do often.
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
