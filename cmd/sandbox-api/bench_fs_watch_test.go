package main

// Watch latency through the daemon beside raw inotify in the same run.

import (
	"bufio"
	"bytes"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWatchEventLatency: one byte appended to a file → its WRITE line
// read by an HTTP client of GET /watch/filesystem, against the same append
// → its event read from an inotify instance of the benchmark itself.
// Interleaved, so both see the same machine state.
func BenchmarkWatchEventLatency(b *testing.B) {
	d := startDaemon(b, daemonOptions{})
	daemonDir, rawDir := b.TempDir(), b.TempDir()

	resp, err := d.stream.Get(d.url + "/watch/filesystem/" + url.PathEscape(daemonDir))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("watch: status %d", resp.StatusCode)
	}
	lines := bufio.NewReader(resp.Body)

	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, rawDir, syscall.IN_MODIFY); err != nil {
		b.Fatal(err)
	}
	rawBuf := make([]byte, 64<<10)

	open := func(dir string) *os.File {
		f, err := os.Create(filepath.Join(dir, "f"))
		if err != nil {
			b.Fatal(err)
		}
		return f
	}
	daemonFile, rawFile := open(daemonDir), open(rawDir)
	defer daemonFile.Close()
	defer rawFile.Close()
	// The CREATE of the daemon's file is read first.
	if line, err := lines.ReadSlice('\n'); err != nil || !bytes.Contains(line, []byte(`"CREATE"`)) {
		b.Fatalf("first line %q, %v", line, err)
	}
	one := []byte{'x'}
	viaDaemon := func() time.Duration {
		start := time.Now()
		if _, err := daemonFile.Write(one); err != nil {
			b.Fatal(err)
		}
		for {
			line, err := lines.ReadSlice('\n')
			if err != nil {
				b.Fatalf("stream: %v", err)
			}
			if bytes.Contains(line, []byte(`"WRITE"`)) {
				return time.Since(start)
			}
			if !bytes.HasPrefix(line, []byte("[keepalive]")) {
				b.Fatalf("unexpected line %q", line)
			}
		}
	}
	raw := func() time.Duration {
		start := time.Now()
		if _, err := rawFile.Write(one); err != nil {
			b.Fatal(err)
		}
		if n, err := syscall.Read(fd, rawBuf); err != nil || n < syscall.SizeofInotifyEvent {
			b.Fatalf("inotify read: %d, %v", n, err)
		}
		return time.Since(start)
	}
	for range 50 { // warm both paths
		viaDaemon()
		raw()
	}

	daemonLat := make([]time.Duration, 0, b.N)
	rawLat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for range b.N {
		daemonLat = append(daemonLat, viaDaemon())
		b.StopTimer()
		rawLat = append(rawLat, raw())
		b.StartTimer()
	}
	b.StopTimer()
	slices.Sort(daemonLat)
	slices.Sort(rawLat)
	p50, p99 := percentileUS(daemonLat, 0.50), percentileUS(daemonLat, 0.99)
	rawP50, rawP99 := percentileUS(rawLat, 0.50), percentileUS(rawLat, 0.99)
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	b.ReportMetric(rawP50, "raw-p50-µs")
	b.ReportMetric(rawP99, "raw-p99-µs")
	b.ReportMetric(p50/rawP50, "p50/raw")
	b.ReportMetric(p99/rawP99, "p99/raw")
}
