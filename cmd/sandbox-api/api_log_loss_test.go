package main

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testdisk"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestLogDiskFullIsReported: a process whose output overflows the log's
// disk completes normally, and its logs say how many bytes were lost, so
// that what was kept plus what was lost is exactly what it wrote.
func TestLogDiskFullIsReported(t *testing.T) {
	t.Parallel()
	logDir := testdisk.Small(t, "2m") // 2 MiB
	d := startDaemon(t, daemonOptions{args: []string{"--log-dir", logDir}})
	const written = 3000000 + len("\ntail-line\n")
	p := d.exec(map[string]any{
		"command":           `head -c 3000000 /dev/zero | tr '\0' x; printf '\ntail-line\n'`,
		"waitForCompletion": true,
	})
	if p.Status != "completed" || p.ExitCode != 0 {
		t.Fatalf("process %+v, want completed", p)
	}
	stdout := testsupport.Deref(d.logs(p.PID).Stdout)
	marker := regexp.MustCompile(`\[sandbox-api: (\d+) bytes of output were lost: [^\]]*\]\n`)
	lost := 0
	for _, m := range marker.FindAllStringSubmatch(stdout, -1) {
		n, _ := strconv.Atoi(m[1])
		lost += n
	}
	// A marker after a partial line starts a line of its own, so the kept
	// bytes are counted, not compared: the x's, and the last line, which
	// one write brought, whole or not at all.
	rest := marker.ReplaceAllString(stdout, "")
	kept := strings.Count(rest, "x")
	if strings.HasSuffix(rest, "\ntail-line\n") {
		kept += len("\ntail-line\n")
	}
	if lost == 0 {
		t.Fatalf("no loss marker in %d bytes of stdout (ends %q)", len(stdout), stdout[max(0, len(stdout)-200):])
	}
	if other := strings.NewReplacer("x", "", "\n", "", "tail-line", "").Replace(rest); other != "" {
		t.Errorf("kept output has bytes the process did not write: %q", other)
	}
	if kept+lost != written {
		t.Errorf("kept %d + lost %d = %d bytes, the process wrote %d", kept, lost, kept+lost, written)
	}
	// The daemon said so once per run of failed writes (a write that
	// fits in between ends a run), not once per read of the pipe: most of
	// the 3 MB, read up to 128 KiB at a time, failed here. Its log comes
	// in order: once a request made now is in it, so is every such line.
	const sentinel = "/log-loss-sentinel"
	d.do(http.MethodGet, sentinel, nil)
	testsupport.Until(t, "the sentinel request in the daemon's log", func() bool {
		return strings.Contains(d.stderr.String(), sentinel)
	})
	n := strings.Count(d.stderr.String(), "process output not kept")
	if n < 1 || n > 10 {
		t.Errorf("the daemon logged the failed writes %d times, want a few", n)
	}
	t.Logf("kept %d bytes, lost %d, failed-write runs logged: %d", kept, lost, n)
}
