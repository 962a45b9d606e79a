package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// mappingAt returns the header line and the AnonHugePages field (kB) of
// the mapping of pid that starts at addr, from /proc/PID/smaps.
func mappingAt(t *testing.T, pid int, addr uint64) (header string, hugeKB int) {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/smaps", pid))
	if err != nil {
		t.Fatal(err)
	}
	prefix := strconv.FormatUint(addr, 16) + "-"
	for len(prefix) < 9 { // smaps pads addresses to 8 hex digits
		prefix = "0" + prefix
	}
	in := false
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, prefix) {
			header, in = line, true
			continue
		}
		if in && strings.HasPrefix(line, "AnonHugePages:") {
			hugeKB, _ = strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(line, "AnonHugePages:"), "kB")))
			return header, hugeKB
		}
	}
	t.Fatalf("no mapping starts at %#x in the daemon's smaps:\n%s", addr, data)
	return "", 0
}

// A moment after its start the daemon's runtime code sits on an anonymous
// huge page at the address it logged, and the daemon still runs commands.
func TestRuntimeCodeMovesOntoAHugePage(t *testing.T) {
	d := startDaemon(t, daemonOptions{})
	fields := d.logLine("runtime code moved onto a huge page")
	at, err := strconv.ParseUint(strings.TrimPrefix(fmt.Sprint(fields["at"]), "0x"), 16, 64)
	if err != nil {
		t.Fatalf("logged address %v: %v", fields["at"], err)
	}
	header, hugeKB := mappingAt(t, d.pid, at)
	parts := strings.Fields(header)
	if len(parts) != 5 || parts[1] != "r-xp" || hugeKB != 2048 {
		t.Fatalf("mapping %q with %d kB of huge pages; want an anonymous r-xp mapping on one 2048 kB page", header, hugeKB)
	}
	p := d.exec(map[string]any{"command": "echo still runs", "waitForCompletion": true})
	if p.Status != "completed" || p.Logs == nil || *p.Logs != "still runs\n" {
		t.Fatalf("exec after the move: %+v", p)
	}
}

// --text-huge-pages=false leaves the code on the executable's own pages.
func TestTextHugePagesOff(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--text-huge-pages=false"}})
	fields := d.logLine("runtime code left on 4 KiB pages")
	if fields["reason"] != "--text-huge-pages=false" {
		t.Fatalf("reason %v, want the flag", fields["reason"])
	}
	header, hugeKB := mappingAt(t, d.pid, 0x400000)
	if parts := strings.Fields(header); len(parts) != 6 || parts[1] != "r-xp" || filepath.Base(parts[5]) != filepath.Base(daemonBin) {
		t.Fatalf("mapping %q: want the executable's own r-xp pages", header)
	}
	if hugeKB != 0 {
		t.Fatalf("mapping %q has %d kB of anonymous huge pages", header, hugeKB)
	}
}
