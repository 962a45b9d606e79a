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
	body := bufio.NewReader(http.MaxBytesReader(w, r.Body, limit))
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
