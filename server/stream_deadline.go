package server

import (
	"io"
	"net/http"
	"time"
)

// deadlineSlack is how far past streamWriteTimeout a lazy deadline is set,
// so that a stream writing all the time moves it at most once per
// deadlineSlack.
const deadlineSlack = time.Second

// lazyDeadlineWriter gives each write to a streaming client at least
// streamWriteTimeout to complete (a client that stopped reading is dropped,
// one that reads slowly is not), but moves the connection's deadline only
// when less than that is left: then to streamWriteTimeout + deadlineSlack
// ahead. A stalled client is thus dropped after 30 to 31 s.
//
// Moving a deadline changes a timer of the Go runtime, and a timer changed
// while the process sleeps wakes a thread to re-arm the network poller (an
// eventfd write, or a wakeup of an idle thread). A watch event written with
// one fresh deadline per write cost that wakeup as often as not, the
// second most costly thing on its way after the hand-over to the stream's
// goroutine.
type lazyDeadlineWriter struct {
	w        io.Writer
	rc       *http.ResponseController
	deadline time.Time // the connection's write deadline, as last set
}

func (d *lazyDeadlineWriter) Write(p []byte) (int, error) {
	if now := time.Now(); d.deadline.Sub(now) < streamWriteTimeout {
		d.deadline = now.Add(streamWriteTimeout + deadlineSlack)
		_ = d.rc.SetWriteDeadline(d.deadline)
	}
	return d.w.Write(p)
}
