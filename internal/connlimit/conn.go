package connlimit

import (
	"container/list"
	"errors"
	"io"
	"net"
	"sync"
)

// Conn is a connection admitted by a Limiter. Closing it frees its place.
type Conn struct {
	net.Conn
	l *Limiter
	// Guarded by l.mu: elem is its place in l.evictable (nil while its
	// request is complete, or once forgotten), gone is set once forgotten.
	elem *list.Element
	gone bool
	once sync.Once
	err  error
}

// Close closes the connection and frees its place; later calls return the
// first call's result. An evicted connection is already closed: its
// server's Close then reports nothing new.
func (c *Conn) Close() error {
	c.once.Do(func() {
		if c.l.forget(c) {
			c.err = c.Conn.Close()
		}
	})
	return c.err
}

// ReadFrom keeps the inner connection's fast paths (sendfile, splice):
// net/http serves files through the ReaderFrom of its connection.
func (c *Conn) ReadFrom(r io.Reader) (int64, error) {
	return io.Copy(c.Conn, r)
}

// CloseWrite half-closes the inner connection: net/http does it before
// closing a connection whose request body it did not read, so the client
// reads the answer before a reset can discard it.
func (c *Conn) CloseWrite() error {
	if cw, ok := c.Conn.(interface{ CloseWrite() error }); ok {
		return cw.CloseWrite()
	}
	return errors.ErrUnsupported
}
