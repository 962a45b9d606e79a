package terminal

import "sync"

// DefaultClientQueue is the number of output chunks one client may lag.
const DefaultClientQueue = 1024

// Client is one attachment to a session. Its Output channel closes when the
// session ends, when the client detaches, or when it lagged too far behind.
type Client struct {
	s       *Session
	out     chan []byte
	once    sync.Once
	dropped bool // set under s.mu before out is closed
}

// Output yields the session's output, the scrollback first.
func (c *Client) Output() <-chan []byte { return c.out }

// Dropped reports whether the client was cut off for lagging; valid once
// Output is closed.
func (c *Client) Dropped() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.dropped
}

// Detach removes the client from its session; the session keeps running.
func (c *Client) Detach() { c.s.detach(c) }

// offer queues p without blocking; false means the queue is full.
func (c *Client) offer(p []byte) bool {
	select {
	case c.out <- p:
		return true
	default:
		return false
	}
}

func (c *Client) close() { c.once.Do(func() { close(c.out) }) }
