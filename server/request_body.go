package server

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// invalidBody starts the message of every body that cannot be decoded or
// fails validation: the existing Blaxel daemon's wording, on every route,
// which clients match on.
const invalidBody = "invalid request body: "

// Request body limits: every body is bounded before it is read.
const (
	maxJSONBody  = 1 << 20
	maxSmallBody = 4 << 10
	maxStdinBody = 8 << 20
)

// decodeJSON reads a JSON body of at most limit bytes into v. On failure it
// answers the client (400 or 413) and returns false. An empty body is
// accepted only when optional is set. Every request body is an object:
// null, which json would take as "nothing to decode", is refused like
// arrays or numbers.
func decodeJSON(w http.ResponseWriter, r *http.Request, limit int64, v any, optional bool) bool {
	var body *bufio.Reader
	if fast, ok := v.(fastDecoder); ok && r.ContentLength > 0 && r.ContentLength <= min(limit, maxFastBody) {
		rest, handled := decodeWhole(r, fast)
		if handled {
			return true
		}
		body = bufio.NewReader(rest)
	} else {
		body = bufio.NewReader(http.MaxBytesReader(w, r.Body, limit))
	}
	if isJSONNull(body) {
		writeError(w, http.StatusBadRequest, invalidBody+"null; a JSON object is required")
		return false
	}
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) && optional {
		return true
	}
	if err == nil {
		if dec.More() {
			err = errors.New("unexpected data after the JSON value")
		} else if _, terr := dec.Token(); terr != io.EOF && terr != nil {
			err = terr
		}
	}
	if err == nil {
		return true
	}
	msg := invalidBody + err.Error()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		msg = fmt.Sprintf("request body is larger than %d bytes", limit)
	case bodyStalled(err):
		msg = err.Error()
	case errors.Is(err, io.EOF):
		msg = invalidBody + "the body is empty; a JSON object is required"
	}
	writeError(w, requestBodies.statusOf(err), msg)
	return false
}

// fastDecoder is a request body with a decoder of its own for the plain
// bodies clients send (processRequest.decodeFast). It reports whether it
// took data, and is left as it was when it did not.
type fastDecoder interface {
	decodeFast(data []byte) bool
}

// maxFastBody bounds the bodies a fastDecoder is given, read whole.
const maxFastBody = 64 << 10

// decodeWhole reads a body of a declared length (at most maxFastBody, and
// within the route's limit: net/http gives no more than it declared) and
// hands it to v. What v does not take is returned to be decoded as any
// body is: the same bytes, then the same read error, if any, so that the
// answer is the one it would have been (a body that stalls after a syntax
// error is answered once it stalls, not at the error).
func decodeWhole(r *http.Request, v fastDecoder) (rest io.Reader, handled bool) {
	data := make([]byte, r.ContentLength)
	n, err := io.ReadFull(r.Body, data)
	if err != nil {
		return io.MultiReader(bytes.NewReader(data[:n]), errorReader{err}), false
	}
	// net/http reports the end with the last bytes; this read only makes
	// sure of it, as a decoder reading on would (the end marks the body
	// complete and starts net/http's watch of the connection).
	var probe [1]byte
	if m, err := r.Body.Read(probe[:]); m != 0 || !errors.Is(err, io.EOF) {
		return io.MultiReader(bytes.NewReader(data), bytes.NewReader(probe[:m]), r.Body), false
	}
	if v.decodeFast(data) {
		return nil, true
	}
	return bytes.NewReader(data), false
}

// errorReader fails every read with err.
type errorReader struct{ err error }

func (e errorReader) Read([]byte) (int, error) { return 0, e.err }

// isJSONNull reports a body that starts with the JSON literal null, after
// white space, without consuming anything but that white space.
func isJSONNull(br *bufio.Reader) bool {
	for {
		b, err := br.Peek(1)
		if err != nil {
			return false
		}
		switch b[0] {
		case ' ', '\t', '\r', '\n':
			_, _ = br.ReadByte()
			continue
		}
		word, _ := br.Peek(4)
		return bytes.Equal(word, []byte("null"))
	}
}
