package main

// Black-box tests of GET /watch/filesystem/{path} through the real daemon.

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// wireEvent is a line of the stream; pointers tell a missing field from "".
type wireEvent struct {
	Op    *string `json:"op"`
	Name  *string `json:"name"`
	Path  *string `json:"path"`
	Error *string `json:"error"`
}

func (e wireEvent) String() string {
	return fmt.Sprintf("{%s %s/%s %s}", testsupport.Deref(e.Op), testsupport.Deref(e.Path), testsupport.Deref(e.Name), testsupport.Deref(e.Error))
}

// watchStream is an open watch: its response and its lines.
type watchStream struct {
	resp   *http.Response
	lines  *lineReader
	cancel context.CancelFunc
}

// openWatch sends GET target and waits for the response headers, failing if
// they do not come on their own: nothing is changed on disk until then, so a
// daemon that holds them back until the first event fails here.
func openWatch(t *testing.T, d *daemon, target string, client *http.Client) *watchStream {
	t.Helper()
	if client == nil {
		client = d.stream
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		resp *http.Response
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := client.Do(d.request(ctx, http.MethodGet, target, nil))
		got <- result{resp, err}
	}()
	select {
	case r := <-got:
		if r.err != nil {
			cancel()
			t.Fatalf("GET %s: %v", target, r.err)
		}
		s := &watchStream{resp: r.resp, cancel: cancel}
		t.Cleanup(func() { cancel(); r.resp.Body.Close() })
		if r.resp.StatusCode == http.StatusOK {
			s.lines = readLines(r.resp.Body)
		}
		return s
	case <-time.After(hangGuard):
		cancel()
		t.Fatalf("GET %s: no response headers within %s while nothing changed", target, hangGuard)
		return nil
	}
}

// wantStream checks that the watch is an open ndjson stream.
func (s *watchStream) wantStream(t *testing.T) {
	t.Helper()
	if s.resp.StatusCode != http.StatusOK {
		t.Fatalf("status %d, want 200", s.resp.StatusCode)
	}
	if ct := s.resp.Header.Get("Content-Type"); ct != "application/x-ndjson" {
		t.Errorf("Content-Type %q, want application/x-ndjson", ct)
	}
}

// next returns the next event, skipping keepalives.
func (s *watchStream) next(t *testing.T) wireEvent {
	t.Helper()
	var keepalives int
	line, ok := s.lines.nextData(t, &keepalives)
	if !ok {
		t.Fatalf("the stream ended (%v)", s.lines.err)
	}
	var ev wireEvent
	if err := json.Unmarshal([]byte(line), &ev); err != nil {
		t.Fatalf("line %q is not a JSON event: %v", line, err)
	}
	return ev
}

// waitEvent reads events until one has op and full path dir/name; it
// returns the events before it.
func (s *watchStream) waitEvent(t *testing.T, op, full string) []wireEvent {
	t.Helper()
	var seen []wireEvent
	for {
		ev := s.next(t)
		if testsupport.Deref(ev.Op) == op && filepath.Join(testsupport.Deref(ev.Path), testsupport.Deref(ev.Name)) == full {
			return seen
		}
		seen = append(seen, ev)
		if len(seen) > 20000 { // more than the daemon can hold back for a client
			t.Fatalf("no %s %s among %d events", op, full, len(seen))
		}
	}
}

func touch(t *testing.T, path string) {
	t.Helper()
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
}

// daemonInotify counts the inotify instances of a process and the watches
// they hold.
func daemonInotify(pid int) (instances, watches int) {
	dir := "/proc/" + strconv.Itoa(pid)
	fds, _ := os.ReadDir(dir + "/fd")
	for _, fd := range fds {
		if target, err := os.Readlink(dir + "/fd/" + fd.Name()); err != nil || target != "anon_inode:inotify" {
			continue
		}
		info, err := os.ReadFile(dir + "/fdinfo/" + fd.Name())
		if err != nil {
			continue
		}
		instances++
		watches += strings.Count(string(info), "inotify wd:")
	}
	return instances, watches
}

func TestWatchHeadersBeforeAnyEvent(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	s.wantStream(t)
	touch(t, filepath.Join(dir, "a.txt"))

	line, ok := s.lines.next(t)
	if !ok {
		t.Fatal("the stream ended")
	}
	var raw map[string]any
	if err := json.Unmarshal([]byte(line), &raw); err != nil {
		t.Fatalf("line %q: %v", line, err)
	}
	want := map[string]any{"op": "CREATE", "name": "a.txt", "path": dir}
	if fmt.Sprint(raw) != fmt.Sprint(want) {
		t.Errorf("event %s, want exactly %v", line, want)
	}
}

func TestWatchEachOperation(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	file := filepath.Join(dir, "f.txt")
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	s.wantStream(t)
	steps := []struct {
		op string
		do func() error
	}{
		{"CREATE", func() error { return os.WriteFile(file, nil, 0o644) }},
		{"WRITE", func() error { return os.WriteFile(file, []byte("x"), 0o644) }},
		{"CHMOD", func() error { return os.Chmod(file, 0o600) }},
		{"RENAME", func() error { return os.Rename(file, file+".new") }},
		{"REMOVE", func() error { return os.Remove(file + ".new") }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatal(err)
		}
		target := file
		if st.op == "REMOVE" {
			target = file + ".new"
		}
		s.waitEvent(t, st.op, target)
	}
}

// TestWatchBurstArrivesWholeAndInOrder: events that wait together are
// written together; a burst still reaches the client complete, in order,
// one whole JSON line per event.
func TestWatchBurstArrivesWholeAndInOrder(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	s.wantStream(t)
	const files = 1000 // well within what waits for a client (4096)
	for i := range files {
		touch(t, filepath.Join(dir, fmt.Sprintf("f%04d", i)))
	}
	for i := range files {
		ev := s.next(t)
		want := fmt.Sprintf("f%04d", i)
		if testsupport.Deref(ev.Op) != "CREATE" || testsupport.Deref(ev.Name) != want || testsupport.Deref(ev.Path) != dir {
			t.Fatalf("event %d: %v, want CREATE %s/%s", i, ev, dir, want)
		}
	}
}

// The path arrives encoded (the SDK), raw with a double slash, or relative
// to the daemon's working directory; names with spaces, '#', '?' and
// unicode must round-trip.
func TestWatchPathForms(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	abs := filepath.Join(t.TempDir(), "a b#c?é")
	rel := filepath.Join(d.workDir, "src dir")
	for _, p := range []string{abs, rel} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		name, target, dir string
	}{
		{"encoded", "/watch/filesystem/" + url.PathEscape(abs), abs},
		{"double slash", "/watch/filesystem/" + (&url.URL{Path: abs}).EscapedPath(), abs},
		{"relative", "/watch/filesystem/" + url.PathEscape("src dir"), rel},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := openWatch(t, d, tc.target, nil)
			s.wantStream(t)
			name := "new ✓ #" + strconv.Itoa(i)
			touch(t, filepath.Join(tc.dir, name))
			ev := s.next(t)
			if testsupport.Deref(ev.Op) != "CREATE" || testsupport.Deref(ev.Path) != tc.dir || testsupport.Deref(ev.Name) != name {
				t.Errorf("event %v, want CREATE %s/%s", ev, tc.dir, name)
			}
		})
	}
}

func TestWatchKeepalives(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--keepalive", "100ms"}})
	dir := t.TempDir()
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	s.wantStream(t)
	for range 3 {
		line, ok := s.lines.next(t)
		if !ok || line != "[keepalive]" {
			t.Fatalf("idle stream sent %q (open %v), want [keepalive]", line, ok)
		}
	}
	// Events still come between keepalives.
	touch(t, filepath.Join(dir, "x"))
	s.waitEvent(t, "CREATE", filepath.Join(dir, "x"))
}

func TestWatchIgnoreQuery(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir)+"?ignore=skip,.tmp,", nil)
	s.wantStream(t)
	touch(t, filepath.Join(dir, "skip-me.txt"))
	touch(t, filepath.Join(dir, "draft.tmp"))
	touch(t, filepath.Join(dir, "kept.txt"))
	if seen := s.waitEvent(t, "CREATE", filepath.Join(dir, "kept.txt")); len(seen) != 0 {
		t.Errorf("ignored paths were reported: %v", seen)
	}
}

func TestWatchRecursive(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "old", "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	flat := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	tree := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir+"/**"), nil)
	flat.wantStream(t)
	tree.wantStream(t)

	// Deep in a folder that existed before the watch.
	deepOld := filepath.Join(dir, "old", "deep", "a.txt")
	touch(t, deepOld)
	if seen := tree.waitEvent(t, "CREATE", deepOld); len(seen) != 0 {
		t.Errorf("events before it: %v", seen)
	}
	// A new tree with its files at once: every part is reported.
	newDeep := filepath.Join(dir, "new", "x", "y")
	if err := os.MkdirAll(newDeep, 0o755); err != nil {
		t.Fatal(err)
	}
	touch(t, filepath.Join(newDeep, "b.txt"))
	want := map[string]bool{
		filepath.Join(dir, "new"): true, filepath.Join(dir, "new", "x"): true,
		newDeep: true, filepath.Join(newDeep, "b.txt"): true,
	}
	for len(want) > 0 {
		ev := tree.next(t)
		if testsupport.Deref(ev.Op) == "CREATE" {
			delete(want, filepath.Join(testsupport.Deref(ev.Path), testsupport.Deref(ev.Name)))
		}
	}
	// The plain watch saw only the top: "new" is its first event.
	if ev := flat.next(t); testsupport.Deref(ev.Op) != "CREATE" || testsupport.Deref(ev.Name) != "new" {
		t.Errorf("plain watch: %v, want CREATE new (and nothing from below)", ev)
	}
}

func TestWatchReleasedWhenClientLeaves(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	for _, sub := range []string{"a/b", "c/d"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	inst0, watches0 := daemonInotify(d.pid)
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir+"/**"), nil)
	s.wantStream(t)
	if inst, n := daemonInotify(d.pid); inst != inst0+1 || n != watches0+5 {
		t.Fatalf("armed: %d inotify instances, %d watches; want %d, %d", inst, n, inst0+1, watches0+5)
	}
	s.cancel()
	s.resp.Body.Close()
	testsupport.Eventually(t, func() (bool, string) {
		inst, n := daemonInotify(d.pid)
		return inst == inst0 && n == watches0, fmt.Sprintf("after the client left: %d instances, %d watches; want %d, %d", inst, n, inst0, watches0)
	})
}

func TestWatchErrorAnswers(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	touch(t, file)
	tests := []struct {
		target string
		status int
	}{
		{"/watch/filesystem/" + url.PathEscape(filepath.Join(dir, "missing")), http.StatusNotFound},
		{"/watch/filesystem/" + url.PathEscape(filepath.Join(dir, "missing")+"/**"), http.StatusNotFound},
		{"/watch/filesystem/" + url.PathEscape(file+"/below"), http.StatusNotFound},
		{"/watch/filesystem/%2Ftmp%00x", http.StatusBadRequest},
		{"/watch/filesystem/" + strings.Repeat("x", 300), http.StatusBadRequest},
	}
	for _, tc := range tests {
		d.wantError(http.MethodGet, tc.target, nil, tc.status)
	}
}

// When the watched folder itself goes, the stream says so and ends, and
// releases its inotify instance.
func TestWatchEndsWhenRootRemoved(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	root := filepath.Join(t.TempDir(), "root")
	if err := os.Mkdir(root, 0o755); err != nil {
		t.Fatal(err)
	}
	inst0, _ := daemonInotify(d.pid)
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(root), nil)
	s.wantStream(t)
	if err := os.Remove(root); err != nil {
		t.Fatal(err)
	}
	s.waitEvent(t, "REMOVE", root)
	ev := s.next(t)
	if testsupport.Deref(ev.Op) != "ERROR" || ev.Error == nil || !strings.Contains(*ev.Error, "gone") {
		t.Errorf("after the root's removal: %v, want an ERROR event", ev)
	}
	var keepalives int
	if line, ok := s.lines.nextData(t, &keepalives); ok {
		t.Errorf("stream goes on after its root was removed: %q", line)
	}
	testsupport.Eventually(t, func() (bool, string) {
		inst, _ := daemonInotify(d.pid)
		return inst == inst0, fmt.Sprintf("%d inotify instances, want %d", inst, inst0)
	})
}

// A client that stops reading costs the daemon bounded memory: events past
// the buffer are dropped, and an ERROR line says so (and how many) once it
// reads again.
func TestWatchSlowClientLosesEventsNotMemory(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--keepalive", "300ms"}})
	dir := t.TempDir()
	// A tiny receive window, so the daemon's writes block almost at once.
	dialer := &net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) {
			serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096)
		})
		if err != nil {
			return err
		}
		return serr
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), client)
	s.wantStream(t)

	rss0, err := rssBytes(d.pid)
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(d.pid, 20*time.Millisecond)
	// Long names make long lines: far more than every socket buffer holds.
	// Two files in turn, so that the kernel merges no event with the last.
	var files [2]*os.File
	for i := range files {
		f, err := os.Create(filepath.Join(dir, strings.Repeat(strconv.Itoa(i), 200)))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		files[i] = f
	}
	const writes = 60000
	for i := range writes {
		if _, err := files[i%2].Write([]byte{'x'}); err != nil {
			t.Fatal(err)
		}
	}
	peak := sampler.stop()

	// Reading again: notices come in place of what was lost. Each keepalive
	// (the stream was idle) is answered with a new marker file, until one
	// gets through: then the backlog is gone and the watch is still alive.
	var notices, markers int
	for done := false; !done; {
		line, ok := s.lines.next(t)
		if !ok {
			t.Fatalf("the stream ended (%v)", s.lines.err)
		}
		if line == "[keepalive]" {
			markers++
			touch(t, filepath.Join(dir, "marker"+strconv.Itoa(markers)))
			continue
		}
		var ev wireEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q: %v", line, err)
		}
		switch {
		case testsupport.Deref(ev.Op) == "ERROR":
			// Dropped for the client, or lost by the kernel when the
			// daemon's reader fell behind the writer: both are told.
			msg := testsupport.Deref(ev.Error)
			if !strings.Contains(msg, "events were dropped") && !strings.Contains(msg, "events were lost") {
				t.Fatalf("ERROR %q, want a notice of lost events", msg)
			}
			notices++
		case testsupport.Deref(ev.Op) == "CREATE" && strings.HasPrefix(testsupport.Deref(ev.Name), "marker"):
			done = true
		}
	}
	if notices == 0 {
		t.Errorf("no notice of lost events after %d events to a client that did not read", writes)
	}
	if grew := peak - rss0; grew > 32<<20 {
		t.Errorf("daemon RSS grew by %d MiB for a client that did not read", grew>>20)
	}
}

// TestManyWatchesShareOneInstance: more concurrent watch streams than the
// kernel's default of 128 inotify instances per user all work, on one
// instance, and leave nothing behind once their clients are gone.
func TestManyWatchesShareOneInstance(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := t.TempDir()
	inst0, watches0 := daemonInotify(d.pid)
	const n = 150
	streams := make([]*watchStream, n)
	for i := range streams {
		sub := filepath.Join(dir, strconv.Itoa(i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			t.Fatal(err)
		}
		streams[i] = openWatch(t, d, "/watch/filesystem/"+url.PathEscape(sub), nil)
		streams[i].wantStream(t)
	}
	if inst, nw := daemonInotify(d.pid); inst != inst0+1 || nw != watches0+n {
		t.Fatalf("%d streams: %d inotify instances, %d watches; want %d, %d", n, inst, nw, inst0+1, watches0+n)
	}
	for i, s := range streams {
		p := filepath.Join(dir, strconv.Itoa(i), "f")
		touch(t, p)
		s.waitEvent(t, "CREATE", p)
	}
	for _, s := range streams {
		s.cancel()
		s.resp.Body.Close()
	}
	testsupport.Eventually(t, func() (bool, string) {
		inst, nw := daemonInotify(d.pid)
		return inst == inst0 && nw == watches0, fmt.Sprintf("after the clients left: %d instances, %d watches; want %d, %d", inst, nw, inst0, watches0)
	})
}

// TestMaxStreams: with --max-streams 3, three streams of any kind are
// served, the next gets a JSON 503 (a streamed exec refused so starts
// nothing), and a slot freed by a client that left is taken again.
func TestMaxStreams(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--max-streams", "3"}})
	dir := t.TempDir()
	resp, body := d.do(http.MethodPost, "/process", map[string]any{"name": "long", "command": "sleep 100"})
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("start: %d %s", resp.StatusCode, body)
	}
	first := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
	first.wantStream(t)
	openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil).wantStream(t)
	logs, err := d.stream.Get(d.url + "/process/long/logs/stream")
	if err != nil || logs.StatusCode != http.StatusOK {
		t.Fatalf("log stream: %v %v", err, logs)
	}
	defer logs.Body.Close()

	if msg := d.wantError(http.MethodGet, "/watch/filesystem/"+url.PathEscape(dir), nil, http.StatusServiceUnavailable); !strings.Contains(msg, "--max-streams") {
		t.Errorf("fourth stream refused with %q, want a mention of --max-streams", msg)
	}
	resp, body = d.do(http.MethodPost, "/process", map[string]any{"name": "streamed", "command": "echo hi"}, "Accept", "text/event-stream")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), `"error":"too many streams`) {
		t.Errorf("streamed exec at the limit: %d %s, want a JSON 503", resp.StatusCode, body)
	}
	if resp, _ := d.do(http.MethodGet, "/process/streamed", nil); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a refused streamed exec started its process: GET answered %d", resp.StatusCode)
	}
	// Requests that do not stream are not counted.
	if resp, body := d.do(http.MethodGet, "/process/long", nil); resp.StatusCode != http.StatusOK {
		t.Errorf("GET /process/long at the stream limit: %d %s", resp.StatusCode, body)
	}

	first.cancel()
	first.resp.Body.Close()
	testsupport.Eventually(t, func() (bool, string) {
		s := openWatch(t, d, "/watch/filesystem/"+url.PathEscape(dir), nil)
		defer s.cancel()
		return s.resp.StatusCode == http.StatusOK, fmt.Sprintf("a new stream after one left: %d", s.resp.StatusCode)
	})
}
