package main

// Black-box tests of JSON reads of the kernel's files (issue 12): their
// reported size is not their length, so they are read to their end, at
// most 1 MiB each, a few at a time.

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// procStatusKB reads a "Name:   N kB" field of /proc/<pid>/status.
func procStatusKB(t testing.TB, pid int, field string) int64 {
	t.Helper()
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			if err != nil {
				t.Fatalf("%s %q: %v", field, line, err)
			}
			return kb
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return 0
}

// TestKernelFileReadsStayBounded: 24 JSON reads at once of the daemon's own
// /proc/self/pagemap (no size, no useful end) each answer 413 pointing to
// the download, and the daemon's peak RSS stays within a wide margin of
// where it started. Today's daemon read up to 64 MiB for each: 2.4 GB.
func TestKernelFileReadsStayBounded(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	d.do(http.MethodGet, "/filesystem//proc/self/status", nil) // warm the handlers up
	before := procStatusKB(t, d.pid, "VmRSS")

	var wg sync.WaitGroup
	for range 24 {
		wg.Go(func() {
			resp, data := d.do(http.MethodGet, "/filesystem//proc/self/pagemap", nil)
			var e struct{ Error string }
			_ = json.Unmarshal(data, &e)
			if resp.StatusCode != http.StatusRequestEntityTooLarge || !strings.Contains(e.Error, "Accept: application/octet-stream") {
				t.Errorf("JSON read of /proc/self/pagemap: %d %s, want 413 pointing to the download", resp.StatusCode, testsupport.Truncate(data))
			}
		})
	}
	wg.Wait()
	peak := procStatusKB(t, d.pid, "VmHWM")
	t.Logf("daemon RSS before %d kB, peak %d kB", before, peak)
	// Four slots of about 1 MiB each: 64 MiB is a wide margin, and far
	// below the gigabytes an unbounded read takes.
	if grown := peak - before; grown > 64<<10 {
		t.Fatalf("the daemon's peak RSS grew by %d kB during the reads, want at most 64 MiB", grown)
	}
}

// TestKernelFileReadsWhole: a sysfs attribute reports a page and holds a
// few bytes (today's daemon cut the connection: fewer bytes than the size
// said), a /proc file reports 0: each reads whole, as JSON with its real
// size and as a download, and HEAD agrees.
func TestKernelFileReadsWhole(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	for _, p := range []string{"/sys/devices/system/cpu/online", "/proc/version", "/proc/filesystems"} {
		want, err := os.ReadFile(p)
		if err != nil {
			t.Logf("%s: %v; skipped", p, err)
			continue
		}
		var got struct {
			Size    int64
			Content string
		}
		d.doJSON(http.MethodGet, "/filesystem/"+p, nil, http.StatusOK, &got)
		if got.Content != string(want) || got.Size != int64(len(want)) {
			t.Errorf("%s: size %d, content %q; want size %d, content %q", p, got.Size, testsupport.Truncate([]byte(got.Content)), len(want), testsupport.Truncate(want))
		}
		if resp, _ := d.do(http.MethodHead, "/filesystem/"+p, nil); resp.StatusCode != http.StatusOK {
			t.Errorf("HEAD %s: %d, want 200", p, resp.StatusCode)
		}
		if resp, body := d.do(http.MethodGet, "/filesystem/"+p+"?download=true", nil); resp.StatusCode != http.StatusOK || string(body) != string(want) {
			t.Errorf("download of %s: %d %q, want %q", p, resp.StatusCode, testsupport.Truncate(body), want)
		}
	}
}

// TestHeavyReadsQueue: with one slot, many trees asked for at once all
// get their answer: past the bound they wait, they do not fail.
func TestHeavyReadsQueue(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{args: []string{"--max-heavy-reads", "1"}})
	for i := range 50 {
		if err := os.MkdirAll(filepath.Join(d.workDir, "t", strconv.Itoa(i)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			var tree struct{ Subdirectories []any }
			resp, data := d.do(http.MethodGet, "/filesystem/tree/t", nil)
			if err := json.Unmarshal(data, &tree); resp.StatusCode != http.StatusOK || err != nil || len(tree.Subdirectories) != 50 {
				t.Errorf("tree: %d, %d folders (%v)", resp.StatusCode, len(tree.Subdirectories), err)
			}
		})
		wg.Go(func() {
			resp, data := d.do(http.MethodGet, "/filesystem-search?query=t", nil)
			if resp.StatusCode != http.StatusOK {
				t.Errorf("search: %d %s", resp.StatusCode, testsupport.Truncate(data))
			}
		})
	}
	wg.Wait()
}
