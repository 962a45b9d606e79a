package server

// GET /filesystem-find: the answer is written as the matches are found,
// so maxResults=0 (every match, as the existing daemon answers it) costs
// the same memory for a tree of any size.

import (
	"bufio"
	"bytes"
	"fmt"
	"math"
	"net/http"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// findAnswerBuffer is how much of a find answer is gathered before any of
// it leaves. Most answers fit, and go out whole once the walk is over,
// so an error met during the walk (an unreadable root) still gets its
// own status; a longer answer leaves in pieces of this size.
const findAnswerBuffer = 32 << 10

type findMatchJSON struct {
	Path string `json:"path"`
	Type string `json:"type"`
}

func (h *filesystemHandlers) find(w http.ResponseWriter, r *http.Request) {
	root, q, ok := searchRequest(w, r, findPrefix)
	if !ok {
		return
	}
	opts := filesystem.FindOptions{Type: q.Get("type"), Patterns: splitList(q.Get("patterns"))}
	var err error
	if opts.WalkOptions, err = walkOptionsFrom(q); err == nil {
		// No upper cut: the answer is streamed, and 0 means every match.
		opts.MaxResults, err = intParam(q, "maxResults", defaultFindResults, math.MaxInt)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	answer := newFindAnswer(w)
	truncated, err := h.fs.FindEach(r.Context(), root, opts, answer.match)
	if err != nil {
		answer.fail(err)
		return
	}
	answer.finish(truncated)
}

// findAnswer writes FindResponse, {"matches":[...],"total":N,"truncated":B},
// one match at a time.
type findAnswer struct {
	w     http.ResponseWriter
	out   *answerWriter
	buf   *bufio.Writer // over out
	total int
}

func newFindAnswer(w http.ResponseWriter) *findAnswer {
	out := &answerWriter{w: w, rc: http.NewResponseController(w)}
	return &findAnswer{w: w, out: out, buf: bufio.NewWriterSize(out, findAnswerBuffer)}
}

// match adds one match. Its error is the client's (gone, or too slow to
// read): it ends the walk.
func (a *findAnswer) match(m filesystem.FindMatch) error {
	item, err := encodeJSON(findMatchJSON(m))
	if err != nil {
		return fmt.Errorf("encode a match: %w", err)
	}
	if a.total == 0 {
		_, _ = a.buf.WriteString(`{"matches":[`)
	} else {
		_ = a.buf.WriteByte(',')
	}
	a.total++
	_, err = a.buf.Write(bytes.TrimSuffix(item, []byte("\n")))
	return err
}

func (a *findAnswer) finish(truncated bool) {
	if a.total == 0 {
		_, _ = a.buf.WriteString(`{"matches":[`)
	}
	_, _ = fmt.Fprintf(a.buf, `],"total":%d,"truncated":%t}`+"\n", a.total, truncated)
	err := a.buf.Flush()
	a.out.done()
	if err != nil {
		panic(http.ErrAbortHandler) // the client is gone or stalled: nothing more to say
	}
}

// fail answers err with its status while nothing has left yet; later, it
// cuts the connection, so the client sees a broken answer rather than one
// that looks complete.
func (a *findAnswer) fail(err error) {
	a.out.done()
	if !a.out.started {
		writeFailure(a.w, err)
		return
	}
	panic(http.ErrAbortHandler)
}

// answerWriter sends 200 and the JSON content type with the first bytes
// that leave, pushes each write to the client at once, and gives each
// write streamWriteTimeout: a client that stops reading is dropped
// instead of holding the walk.
type answerWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	started bool
}

func (o *answerWriter) Write(p []byte) (int, error) {
	if !o.started {
		o.started = true
		o.w.Header().Set("Content-Type", "application/json")
		o.w.WriteHeader(http.StatusOK)
	}
	_ = o.rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	n, err := o.w.Write(p)
	if err == nil {
		err = o.rc.Flush()
	}
	return n, err
}

// done lifts the deadline: the connection may serve more requests.
func (o *answerWriter) done() { _ = o.rc.SetWriteDeadline(time.Time{}) }
