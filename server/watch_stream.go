package server

import (
	"bufio"
	"encoding/json"
	"net/http"
	"path/filepath"
	"strings"
	"time"

	"github.com/sandbox-api/sandbox-api/watch"
)

// watchEvent is one line of the stream. path is the folder of the entry
// and name its base name: the SDK reads path + "/" + name.
type watchEvent struct {
	Op    watch.Op `json:"op"`
	Name  string   `json:"name"`
	Path  string   `json:"path"`
	Error string   `json:"error,omitempty"`
}

func wireWatchEvent(ev watch.Event) watchEvent {
	if ev.Op == watch.OpError {
		return watchEvent{Op: ev.Op, Path: ev.Path, Error: ev.Err}
	}
	return watchEvent{Op: ev.Op, Name: filepath.Base(ev.Path), Path: filepath.Dir(ev.Path)}
}

// recursiveSuffix on the path asks for the whole tree.
const recursiveSuffix = "/**"

// watchTarget splits the requested path into the path to watch and whether
// the watch is recursive ("/**" after a folder, or "**" alone for the
// working directory).
func watchTarget(p string) (path string, recursive bool) {
	if p == "**" {
		return "", true
	}
	if rest, ok := strings.CutSuffix(p, recursiveSuffix); ok {
		if rest == "" {
			rest = "/"
		}
		return rest, true
	}
	return p, false
}

// ignorePatterns reads ?ignore=a,b (the parameter may also repeat).
func ignorePatterns(r *http.Request) []string {
	var out []string
	for _, v := range r.URL.Query()["ignore"] {
		out = append(out, strings.Split(v, ",")...)
	}
	return out
}

// watch is GET /watch/filesystem/{path}: an endless ndjson stream of the
// changes under path. The 200 and its headers are sent as soon as the watch
// is armed, so a client that has them may start changing files; a path that
// cannot be watched at all is an HTTP error instead.
func (h *filesystemHandlers) watch(w http.ResponseWriter, r *http.Request) {
	p, err := pathAfter(r, watchPrefix)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	path, recursive := watchTarget(p)
	watcher, err := h.watches.Watch(r.Context(), path, watch.Options{
		Recursive: recursive,
		Ignore:    ignorePatterns(r),
	})
	if err != nil {
		watchRoutes.writeFailure(w, err)
		return
	}
	defer watcher.Close() // releases the inotify watches when the client goes

	w.Header().Set("Content-Type", "application/x-ndjson")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Accel-Buffering", "no") // proxies must not hold lines back
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	bw := bufio.NewWriterSize(&lazyDeadlineWriter{w: w, rc: rc}, 32<<10)
	flush := func() error {
		if err := bw.Flush(); err != nil {
			return err
		}
		return rc.Flush()
	}
	if flush() != nil {
		return
	}

	keepalive := h.opts.KeepaliveInterval
	if keepalive <= 0 {
		keepalive = DefaultKeepaliveInterval
	}
	// The keepalive timer is not reset at each event, which would change a
	// runtime timer per event (see lazyDeadlineWriter): when it fires, a
	// stream that wrote meanwhile re-arms it for the rest of the interval.
	lastWrite := time.Now()
	idle := time.NewTimer(keepalive)
	defer idle.Stop()
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	events := make([]watch.Event, watchBatch)
	for {
		select {
		case <-r.Context().Done():
			return
		case <-idle.C:
			if quiet := time.Since(lastWrite); quiet < keepalive {
				idle.Reset(keepalive - quiet)
				continue
			}
			if _, err := bw.WriteString("[keepalive]\n"); err != nil || flush() != nil {
				return
			}
			lastWrite = time.Now()
			idle.Reset(keepalive)
		case <-watcher.Ready():
			// Everything waiting goes out together, with one write when it
			// fits the buffer: a lone event costs one write, a burst few.
			for {
				n, open := watcher.Take(events)
				for _, ev := range events[:n] {
					if enc.Encode(wireWatchEvent(ev)) != nil {
						return
					}
				}
				if !open { // the watched path went away (its events were sent)
					_ = flush()
					return
				}
				if n < len(events) {
					break // nothing more waits
				}
			}
			if flush() != nil {
				return
			}
			lastWrite = time.Now()
		}
	}
}

// watchBatch is how many events one Take hands the stream; more are taken
// until none wait, then written out together.
const watchBatch = 64
