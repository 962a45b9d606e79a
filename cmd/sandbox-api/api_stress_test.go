package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestMixedLoad runs workers that each loop over a mix of the API's calls
// against one daemon for a while: execs with and without waiting, log
// streams read to their end, gets and lists, stops, file writes read back,
// folder listings, watches opened and dropped, port queries. Every answer
// must be right, come within the hang guard, and never be a 5xx; each
// worker makes every call at least once, however slow the machine, then
// goes on for the duration. Afterwards the
// daemon must be back where it started: no file descriptor (stream,
// watch, pipe, log file) or child left over, and threads within a ceiling.
// It holds one thing more than at rest, by design: the output pipes it
// made ahead for the next start (process/pipes_ahead.go).
func TestMixedLoad(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	const (
		workers  = 6
		duration = 3 * time.Second
	)
	// Nothing ran yet: the daemon is at rest.
	baseFDs, baseThreads := countFDs(t, d.pid), countThreads(t, d.pid)

	client := &http.Client{Timeout: hangGuard, Transport: &http.Transport{MaxIdleConnsPerHost: workers}}
	var wg sync.WaitGroup
	var mu sync.Mutex
	calls := map[string]int{}
	deadline := time.Now().Add(duration)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			l := &loadWorker{d: d, c: client, id: w, dir: filepath.Join(d.workDir, fmt.Sprintf("w%d", w))}
			for i := 0; i < len(loadOps) || time.Now().Before(deadline); i++ {
				op := loadOps[(i+w)%len(loadOps)]
				if err := op.run(l, i); err != nil {
					t.Errorf("worker %d, %s #%d: %v", w, op.name, i, err)
					return
				}
				mu.Lock()
				calls[op.name]++
				mu.Unlock()
			}
		}(w)
	}
	wg.Wait()
	t.Logf("calls made: %v", calls)
	if t.Failed() {
		return
	}
	for _, op := range loadOps {
		if calls[op.name] == 0 {
			t.Errorf("%s never ran", op.name)
		}
	}

	// Every process the load started has ended by now (each op waits for
	// or stops its own); what is left is leaked.
	client.CloseIdleConnections()
	// Streams and connections of the calls close asynchronously.
	testsupport.Eventually(t, func() (bool, string) {
		fds, threads := countFDs(t, d.pid), countThreads(t, d.pid)
		kids := len(testsupport.ChildrenOf(d.pid))
		// Go keeps the OS threads that blocking calls needed, idle, so
		// threads get a ceiling rather than their starting count.
		return fds <= baseFDs+2+pipesAheadFDs && threads <= baseThreads+8*workers && kids == 0,
			fmt.Sprintf("after the load: %d fds (%d before), %d threads (%d before), %d children", fds, baseFDs, threads, baseThreads, kids)
	})
	resp, _ := d.do(http.MethodGet, "/health", nil)
	if resp.StatusCode != http.StatusOK {
		t.Errorf("/health after the load: %d", resp.StatusCode)
	}
}

// pipesAheadFDs are the descriptors of the output pipes a daemon that has
// started a process holds for the next start: two pipes, both ends.
const pipesAheadFDs = 4

// loadWorker holds what one worker's calls need; its files live in dir.
type loadWorker struct {
	d   *daemon
	c   *http.Client
	id  int
	dir string
}

type loadOp struct {
	name string
	run  func(l *loadWorker, i int) error
}

var loadOps = []loadOp{
	{"exec-wait", func(l *loadWorker, i int) error {
		want := fmt.Sprintf("w%d-%d", l.id, i)
		var p proc
		if err := l.json(http.MethodPost, "/process", map[string]any{"command": "echo " + want + "; echo err-" + want + " >&2", "waitForCompletion": true}, &p); err != nil {
			return err
		}
		if p.Status != "completed" || p.StdoutText() != want+"\n" || p.StderrText() != "err-"+want+"\n" {
			return fmt.Errorf("record %+v, want stdout %q", p, want)
		}
		return nil
	}},
	{"exec-stream", func(l *loadWorker, i int) error {
		var p proc
		if err := l.json(http.MethodPost, "/process", map[string]any{"command": "for i in 1 2 3 4 5; do echo line-$i; done"}, &p); err != nil {
			return err
		}
		body, err := l.stream("/process/" + p.PID + "/logs/stream")
		if err != nil {
			return err
		}
		want := "stdout:line-1\nstdout:line-2\nstdout:line-3\nstdout:line-4\nstdout:line-5\n"
		if got := strings.ReplaceAll(body, "[keepalive]\n", ""); got != want {
			return fmt.Errorf("stream %q, want %q", got, want)
		}
		return nil
	}},
	{"exec-ndjson", func(l *loadWorker, i int) error {
		body, err := l.streamPost("/process", map[string]any{"command": "echo a; echo b", "waitForCompletion": true})
		if err != nil {
			return err
		}
		// Frames carry the output as read: joined, they are the output.
		var stdout strings.Builder
		result := false
		for _, line := range strings.Split(strings.TrimSuffix(body, "\n"), "\n") {
			var f frame
			if err := json.Unmarshal([]byte(line), &f); err != nil {
				return fmt.Errorf("frame %q: %v", line, err)
			}
			switch f.Type {
			case "stdout":
				stdout.WriteString(f.Data)
			case "result":
				result = true
			}
		}
		if stdout.String() != "a\nb\n" || !result {
			return fmt.Errorf("ndjson stream %q", body)
		}
		return nil
	}},
	{"get-list-stop", func(l *loadWorker, i int) error {
		name := fmt.Sprintf("sleeper-%d-%d", l.id, i)
		var p proc
		if err := l.json(http.MethodPost, "/process", map[string]any{"command": "sleep 30", "name": name}, &p); err != nil {
			return err
		}
		if err := l.json(http.MethodGet, "/process/"+name, nil, &p); err != nil || p.Status != "running" {
			return fmt.Errorf("get %s: %+v %v", name, p, err)
		}
		var list []proc
		if err := l.json(http.MethodGet, "/process", nil, &list); err != nil {
			return err
		}
		if err := l.json(http.MethodDelete, "/process/"+name, nil, &p); err != nil {
			return err
		}
		if p.Status != "stopped" && p.Status != "killed" {
			return fmt.Errorf("after stop: %+v", p)
		}
		return nil
	}},
	{"file-roundtrip", func(l *loadWorker, i int) error {
		path := filepath.Join(l.dir, fmt.Sprintf("f%d.txt", i%5))
		content := strings.Repeat(fmt.Sprintf("w%d-%d ", l.id, i), 200)
		if err := l.json(http.MethodPut, filesEnc("/filesystem/", path), map[string]any{"content": content}, nil); err != nil {
			return err
		}
		var f fileBody
		if err := l.json(http.MethodGet, filesEnc("/filesystem/", path), nil, &f); err != nil {
			return err
		}
		if f.Content != content {
			return fmt.Errorf("read back %d bytes, wrote %d", len(f.Content), len(content))
		}
		var listing map[string]any
		return l.json(http.MethodGet, filesEnc("/filesystem/", l.dir), nil, &listing)
	}},
	{"watch", func(l *loadWorker, i int) error {
		if err := os.MkdirAll(l.dir, 0o755); err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), hangGuard)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, l.d.url+filesEnc("/watch/filesystem/", l.dir), nil)
		resp, err := l.c.Do(req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("watch: %d", resp.StatusCode)
		}
		name := fmt.Sprintf("watched-%d", i)
		if err := os.WriteFile(filepath.Join(l.dir, name), []byte("x"), 0o644); err != nil {
			return err
		}
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			if strings.Contains(sc.Text(), name) {
				return nil // dropped here, mid-stream: the daemon must clean up
			}
		}
		return fmt.Errorf("no event for %s: %v", name, sc.Err())
	}},
	{"ports", func(l *loadWorker, i int) error {
		var ports map[string]any
		return l.json(http.MethodGet, "/network/ports", nil, &ports)
	}},
}

// json sends a request and decodes a 200 answer into out (when not nil).
func (l *loadWorker) json(method, path string, body, out any) error {
	rd, err := testsupport.BodyReader(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequest(method, l.d.url+path, rd)
	if err != nil {
		return err
	}
	resp, err := l.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("%s %s: read: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", method, path, resp.StatusCode, testsupport.Truncate(data))
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return fmt.Errorf("%s %s: decode %s: %w", method, path, testsupport.Truncate(data), err)
		}
	}
	return nil
}

// stream reads a GET stream to its end.
func (l *loadWorker) stream(path string) (string, error) {
	resp, err := l.c.Get(l.d.url + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("GET %s: %d %s", path, resp.StatusCode, testsupport.Truncate(b))
	}
	return string(b), err
}

// streamPost is a streamed exec (Accept: text/event-stream) read to its end.
func (l *loadWorker) streamPost(path string, body any) (string, error) {
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, l.d.url+path, bytes.NewReader(b))
	req.Header.Set("Accept", "text/event-stream")
	resp, err := l.c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: %d %s", path, resp.StatusCode, testsupport.Truncate(out))
	}
	return string(out), err
}

func countFDs(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}

func countThreads(t *testing.T, pid int) int {
	t.Helper()
	entries, err := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	if err != nil {
		t.Fatal(err)
	}
	return len(entries)
}
