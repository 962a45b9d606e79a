package terminal

import "sync"

// DefaultClientQueue is the number of output chunks one client may lag.
const DefaultClientQueue = 1024

// Client is one attachment to a session. Its Output channel closes when the
// session ends, when the client detaches, when it lagged too far behind, or
// when the daemon hands its sessions over to its next image.
type Client struct {
	s          *Session
	out        chan []byte
	once       sync.Once
	dropped    bool // set under s.mu before out is closed
	handedOver bool // likewise

	detachOnce sync.Once
	detached   chan struct{} // closed by Detach: Freeze waits for it
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

// HandedOver reports whether the client was ended because the daemon is
// handing its sessions over to its next image (Manager.Freeze): the session
// goes on there, and a client that reattaches gets its replay. Valid once
// Output is closed.
func (c *Client) HandedOver() bool {
	c.s.mu.Lock()
	defer c.s.mu.Unlock()
	return c.handedOver
}

// Detach removes the client from its session; the session keeps running.
// The owner of a client calls it once done with it, its connection closed:
// Freeze waits for that before the daemon switches images.
func (c *Client) Detach() {
	c.s.detach(c)
	c.detachOnce.Do(func() { close(c.detached) })
}

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
