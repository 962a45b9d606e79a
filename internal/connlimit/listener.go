package connlimit

import (
	"net"
	"sync"
)

// listener admits the connections of its inner listener through a Limiter.
type listener struct {
	net.Listener
	l    *Limiter
	once sync.Once
}

// Accept returns the next connection once there is room for it. While
// every connection is busy with a complete request it waits: the next
// clients stay in the kernel's listen backlog.
func (ln *listener) Accept() (net.Conn, error) {
	nc, err := ln.Listener.Accept()
	if err != nil {
		return nil, err
	}
	c := ln.l.admit(nc)
	if c == nil { // closed while waiting for room
		_ = nc.Close()
		return nil, net.ErrClosed
	}
	return c, nil
}

// Close closes the inner listener and ends a wait for room.
func (ln *listener) Close() error {
	ln.once.Do(ln.l.shut)
	return ln.Listener.Close()
}
