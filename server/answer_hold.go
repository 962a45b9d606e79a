package server

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
)

// heldAnswerMax is net/http's own buffer before it chunks an answer: an
// answer that fits is sent when its handler returns, with a Content-Length.
const heldAnswerMax = 2048

// heldAnswer keeps a small answer (its status, its headers as they were
// at WriteHeader, and a body of at most heldAnswerMax bytes) until its
// handler returns, for the access log to send it before writing its line.
// net/http sends such an answer only after the whole middleware stack has
// returned, so the client used to wait for the line's encoding and its
// hand-off to the log writer, some 10 µs of every request.
//
// It changes nothing net/http would send: a longer body, a Flush, a
// ReadFrom or a Hijack release what is held, and everything after goes
// through as before; an answer sent whole gets the Content-Length net/http
// would have given it (only its place among the headers differs: it is set
// by the handler's side now). The zero value holds nothing.
type heldAnswer struct {
	on     bool        // holding: the access log sends what is held
	done   bool        // released: everything goes through
	status int         // the status held; 0 before WriteHeader
	header http.Header // the headers at WriteHeader, which net/http would have sent
	live   bool        // the writer's own map is sent: unchanged since WriteHeader
	body   []byte
}

// keep holds the final status code instead of passing it on; it reports
// false when the code must go through (not holding, or 101, which
// switches protocols now).
func (h *heldAnswer) keep(w http.ResponseWriter, code int) bool {
	if !h.on || h.done {
		return false
	}
	if code == http.StatusSwitchingProtocols {
		h.release(w)
		return false
	}
	if h.status == 0 {
		// net/http takes the headers as they are at WriteHeader; later
		// changes are not sent. Keep that.
		h.status, h.header = code, w.Header().Clone()
	}
	return true // a second WriteHeader is superfluous, as net/http has it
}

// add holds p, and reports false when it does not fit: the caller then
// releases what is held and writes p itself. A first write is an implicit
// WriteHeader(200), which takes the headers as they are.
func (h *heldAnswer) add(w http.ResponseWriter, p []byte) bool {
	if !h.on || h.done || len(h.body)+len(p) > heldAnswerMax {
		return false
	}
	if h.status == 0 {
		h.status, h.header = http.StatusOK, w.Header().Clone()
	}
	h.body = append(h.body, p...)
	return true
}

// release passes on what is held, without flushing, and stops holding.
func (h *heldAnswer) release(w http.ResponseWriter) {
	if !h.on || h.done {
		return
	}
	h.done = true
	if h.status != 0 && h.live {
		w.WriteHeader(h.status)
	} else if h.status != 0 {
		// net/http sends the headers its WriteHeader finds: the held ones.
		// Those set since stay in the live map, where net/http reads the
		// values of declared trailers at the end.
		live := w.Header()
		since := maps.Clone(live)
		clear(live)
		maps.Copy(live, h.header)
		w.WriteHeader(h.status)
		clear(live)
		maps.Copy(live, since)
	}
	if len(h.body) > 0 {
		_, _ = w.Write(h.body) // a client gone fails the writes that follow too
	}
}

// send puts a held answer on the wire, as net/http would once the handler
// returns: with a Content-Length where a body is allowed and its framing
// is not the handler's own (Transfer-Encoding, trailers), then flushed.
// An answer it cannot frame so is released for net/http to finish.
func (h *heldAnswer) send(w http.ResponseWriter, method string) {
	if !h.on || h.done {
		return
	}
	status, header := h.status, h.header
	switch {
	case status == 0:
		status, header = http.StatusOK, w.Header()
	case sameHeader(w.Header(), header):
		// Nothing changed since WriteHeader (the usual case): the live map
		// is framed and sent as it is, without swapping the held copy in
		// and the later changes out around WriteHeader (release).
		header, h.live = w.Header(), true
	}
	framed := !bodyAllowed(status) // nothing to frame
	if !framed && header.Get("Transfer-Encoding") == "" && header.Get("Trailer") == "" {
		switch {
		case header.Get("Content-Length") != "":
			framed = true
		case method != http.MethodHead || len(h.body) > 0:
			// As net/http: a HEAD that wrote nothing says no length.
			header.Set("Content-Length", strconv.Itoa(len(h.body)))
			framed = true
		}
	}
	h.release(w)
	if framed {
		_ = http.NewResponseController(w).Flush()
	}
}

// bodyAllowed reports whether an answer of status may have a body.
func bodyAllowed(status int) bool {
	return status >= 200 && status != http.StatusNoContent && status != http.StatusNotModified
}

// sameHeader reports whether a and b hold the same fields and values.
func sameHeader(a, b http.Header) bool {
	if len(a) != len(b) {
		return false
	}
	for k, va := range a {
		if vb, ok := b[k]; !ok || !slices.Equal(va, vb) {
			return false
		}
	}
	return true
}
