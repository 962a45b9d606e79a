package server

import (
	"net/http"
	"time"
)

// Heavy reads (trees, folder listings, fuzzy and content searches, JSON
// reads of files whose size is unknown) build their whole answer in
// memory. They wait for a slot of the filesystem's queue
// (filesystem.FS.WaitHeavyRead) and keep it until the answer is written,
// so their memory is bounded all together; a client that stops reading is
// dropped, freeing the slot.

// heavyAnswerChunk is how much of a heavy answer is written under one
// write deadline: a client reading slowly but steadily keeps its answer,
// one that stopped is dropped after streamWriteTimeout.
const heavyAnswerChunk = 64 << 10

// waitHeavyRead waits for a heavy-read slot. When the client leaves first
// it reports false, having answered a status only the access log reads.
func (h *filesystemHandlers) waitHeavyRead(w http.ResponseWriter, r *http.Request) (release func(), ok bool) {
	release, err := h.fs.WaitHeavyRead(r.Context())
	if err != nil {
		writeFailure(w, err)
		return nil, false
	}
	return release, true
}

// writeHeavyJSON answers 200 with v, piece by piece, each piece within
// streamWriteTimeout.
func writeHeavyJSON(w http.ResponseWriter, v any) {
	body, err := encodeJSON(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode response: "+err.Error())
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	defer func() { _ = rc.SetWriteDeadline(time.Time{}) }() // the connection may serve more requests
	out := deadlineWriter{w: w, rc: rc}
	for len(body) > 0 {
		n := min(len(body), heavyAnswerChunk)
		if _, err := out.Write(body[:n]); err != nil {
			return // the client is gone or stalled; the connection is cut
		}
		body = body[n:]
	}
}
