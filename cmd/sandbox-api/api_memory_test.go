package main

// Black-box tests of the daemon's resource bounds: memory while streaming
// large outputs, and the disk caps of process logs.

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestMemoryBoundedWhileStreaming500MB: 500 MB of output read through a
// log stream as it is produced barely moves the daemon's RSS.
func TestMemoryBoundedWhileStreaming500MB(t *testing.T) {
	t.Parallel()
	const (
		total   = 500_000_000
		lineLen = 100
		lines   = total / lineLen
	)
	// Caps above the volume, so the stream must carry every line.
	d := startDaemon(t, daemonOptions{args: []string{"--log-max-process-bytes", "600000000", "--log-max-total-bytes", "700000000"}})
	for i := 0; i < 5; i++ { // warm up the HTTP paths; the base is what it left
		d.exec(map[string]any{"command": "echo warm", "waitForCompletion": true})
	}
	base, err := rssBytes(d.pid)
	if err != nil {
		t.Fatal(err)
	}
	sampler := sampleRSS(d.pid, 20*time.Millisecond)

	start := time.Now()
	p := d.exec(map[string]any{"command": fmt.Sprintf(`yes "$(printf '%%0%dd' 0)" | head -c %d`, lineLen-1, total)})
	resp := d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	want := []byte("stdout:" + strings.Repeat("0", lineLen-1) + "\n")
	r := bufio.NewReaderSize(resp.Body, 256<<10)
	got := 0
	for {
		line, err := r.ReadSlice('\n')
		if len(line) > 0 && !bytes.Equal(line, []byte("[keepalive]\n")) {
			if !bytes.Equal(line, want) {
				t.Fatalf("line %d: %q", got+1, testsupport.Truncate(line))
			}
			got++
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %d lines: %v", got, err)
		}
	}
	took := time.Since(start)
	peak := sampler.stop()
	growth := peak - base
	t.Logf("streamed %d lines (%d MB) in %s; daemon RSS %.1f MB → peak %.1f MB (+%.1f MB)",
		got, total/1_000_000, took.Round(time.Millisecond), float64(base)/1e6, float64(peak)/1e6, float64(growth)/1e6)
	if got != lines {
		t.Errorf("stream carried %d lines, want %d", got, lines)
	}
	if growth >= 20<<20 {
		t.Errorf("daemon RSS grew by %.1f MB while streaming 500 MB, want < 20 MB", float64(growth)/(1<<20))
	}
	if end := d.waitEnded(p.PID); end.Status != "completed" {
		t.Errorf("generator ended %s", end.Status)
	}
}

// dirSizeSampler records the largest size of a folder until stopped.
func sampleDirSize(dir string) (stop func() int64) {
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		for {
			if s := dirSize(dir); true {
				mu.Lock()
				peak = max(peak, s)
				mu.Unlock()
			}
			select {
			case <-done:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

// TestLogCapBoundsDisk: with a small --log-max-process-bytes, the log on
// disk stays bounded, and readers are told what was dropped.
func TestLogCapBoundsDisk(t *testing.T) {
	t.Parallel()
	const capBytes = 1 << 20
	d := startDaemon(t, daemonOptions{args: []string{"--log-max-process-bytes", strconv.Itoa(capBytes)}})
	stop := sampleDirSize(d.logDir)
	const n = 2_500_000 // 50 MB
	p := d.exec(map[string]any{"command": seqCommand(n)})
	end := d.waitEnded(p.PID)
	peak := stop()
	final := dirSize(d.logDir)
	t.Logf("50 MB written with a 1 MiB cap: log dir peak %d bytes, final %d bytes", peak, final)
	if end.Status != "completed" {
		t.Errorf("generator ended %s", end.Status)
	}
	// The cap, plus the segment being written (a quarter of the cap) and
	// one record of slack.
	if limit := int64(capBytes + capBytes/4 + 64<<10); peak > limit || final > limit {
		t.Errorf("log dir reached %d bytes (final %d), over the bound %d", peak, final, limit)
	}

	resp := d.openStream(t.Context(), http.MethodGet, "/process/"+p.PID+"/logs/stream", nil)
	lr := readLines(resp.Body)
	first, _ := lr.next(t)
	var dropped int64
	if _, err := fmt.Sscanf(first, "stdout:[sandbox-api: %d bytes of older output were dropped", &dropped); err != nil || dropped < 40_000_000 {
		t.Fatalf("first stream line %q, want a drop marker for most of 50 MB", first)
	}
	var last string
	count := 0
	for {
		line, ok := lr.next(t)
		if !ok {
			break
		}
		if strings.Contains(line, "dropped") {
			t.Errorf("a second drop marker in the stream of an ended process: %q", line)
		}
		last = line
		count++
	}
	if want := fmt.Sprintf("stdout:%019d", n); last != want {
		t.Errorf("last stream line %q, want %q", last, want)
	}
	// Between the cap less one quarter-cap segment and the cap: 39k to 52k
	// lines of 20 bytes.
	if count < 35_000 || count > 55_000 {
		t.Errorf("%d lines retained, want 0.75 to 1 MiB worth (39k to 52k)", count)
	}
	l := d.logs(p.PID)
	if !strings.HasPrefix(testsupport.Deref(l.Logs), "[sandbox-api: ") || !strings.HasSuffix(testsupport.Deref(l.Stdout), fmt.Sprintf("%019d\n", n)) {
		t.Errorf("/logs does not start with the drop marker or lost the end: %q ... %q", testsupport.Deref(l.Logs)[:min(80, len(testsupport.Deref(l.Logs)))], testsupport.Deref(l.Stdout)[max(0, len(testsupport.Deref(l.Stdout))-30):])
	}
}

// TestLogTotalCapBoundsDisk: --log-max-total-bytes bounds the logs of all
// processes together, dropping the oldest output first.
func TestLogTotalCapBoundsDisk(t *testing.T) {
	t.Parallel()
	const total = 2 << 20
	// Segments are a quarter of the per-process cap: 2 MiB here, and a
	// 5 MB output stays under the per-process cap.
	const segment = 2 << 20
	d := startDaemon(t, daemonOptions{args: []string{"--log-max-process-bytes", strconv.Itoa(4 * segment), "--log-max-total-bytes", strconv.Itoa(total)}})
	stop := sampleDirSize(d.logDir)
	var pids []string
	for i := 0; i < 3; i++ {
		p := d.exec(map[string]any{"command": seqCommand(250_000), "waitForCompletion": true}) // 5 MB each
		if p.Status != "completed" {
			t.Fatalf("generator %d: %s", i, p.Status)
		}
		pids = append(pids, p.PID)
	}
	peak := stop()
	final := dirSize(d.logDir)
	t.Logf("3×5 MB with a 2 MiB total cap: log dir peak %d, final %d", peak, final)
	// The cap is enforced when a segment fills: the total plus the segment
	// being written, and a record of slack.
	if limit := int64(total + segment + 64<<10); peak > limit || final > limit {
		t.Errorf("log dir reached %d bytes (final %d), over %d", peak, final, limit)
	}
	// The oldest process lost its output first; the newest kept its end.
	oldest := testsupport.Deref(d.logs(pids[0]).Logs)
	newest := testsupport.Deref(d.logs(pids[2]).Stdout)
	if !strings.HasPrefix(oldest, "[sandbox-api: ") {
		t.Errorf("oldest process output does not start with a drop marker: %q", oldest[:min(80, len(oldest))])
	}
	if !strings.HasSuffix(newest, fmt.Sprintf("%019d\n", 250_000)) {
		t.Errorf("newest process lost the end of its output")
	}
}
