package main

// Watch latency through the daemon beside its two floors, measured in the
// same run.

import (
	"bufio"
	"bytes"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BenchmarkWatchEventLatency: a file created → its CREATE line read by an
// HTTP client of GET /watch/filesystem, beside two baselines, interleaved
// event by event so that all three see the same machine state:
//
//   - raw: the same create → its event read from an inotify instance of the
//     benchmark itself. The event is queued before the create returns, so
//     this read never sleeps: no wakeup, no second process.
//   - relay: the same create → its name read from a loopback TCP connection
//     fed by a separate Go process (testdata/helper relay) that reads
//     inotify and writes what it read with one write. This is the floor of
//     any daemon that reports inotify events over a socket: a wakeup of its
//     process, a read, a write, a wakeup of the client.
//
// The folders are on tmpfs when the machine has /dev/shm: a create on a
// disk's file system costs far more than the rest of the path (about 80 µs
// on ext4 here, against a few on tmpfs) and would hide it.
// Each file is removed after its create was timed, and the removal's event
// read before the next create (untimed), so the folders stay small.
// ns/op is a whole iteration of the three; the figures are the metrics.
func BenchmarkWatchEventLatency(b *testing.B) {
	d := startDaemon(b, daemonOptions{})
	daemonDir, rawDir, relayDir := memoryDir(b), memoryDir(b), memoryDir(b)

	resp, err := d.stream.Get(d.url + "/watch/filesystem/" + url.PathEscape(daemonDir))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("watch: status %d", resp.StatusCode)
	}
	viaDaemon := watchLineReader(b, bufio.NewReader(resp.Body))

	fd, err := syscall.InotifyInit1(syscall.IN_CLOEXEC)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Close(fd)
	if _, err := syscall.InotifyAddWatch(fd, rawDir, syscall.IN_CREATE|syscall.IN_DELETE); err != nil {
		b.Fatal(err)
	}
	rawBuf := make([]byte, 64<<10)
	viaRaw := func(string) {
		if n, err := syscall.Read(fd, rawBuf); err != nil || n < syscall.SizeofInotifyEvent {
			b.Fatalf("inotify read: %d, %v", n, err)
		}
	}

	viaRelay, relayPID := startRelay(b, relayDir)

	// timeCreate creates name in dir and returns how long until await saw
	// its event; then it removes the file and awaits that too.
	timeCreate := func(dir string, await func(want string)) time.Duration {
		p := filepath.Join(dir, "f")
		start := time.Now()
		f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			b.Fatal(err)
		}
		await(`"CREATE"`)
		took := time.Since(start)
		_ = f.Close()
		if err := os.Remove(p); err != nil {
			b.Fatal(err)
		}
		await(`"REMOVE"`)
		return took
	}
	for range 50 { // warm every path
		timeCreate(daemonDir, viaDaemon)
		timeCreate(rawDir, viaRaw)
		timeCreate(relayDir, viaRelay)
	}

	daemonLat := make([]time.Duration, 0, b.N)
	rawLat := make([]time.Duration, 0, b.N)
	relayLat := make([]time.Duration, 0, b.N)
	daemonCPU, relayCPU := threadsCPU(b, d.pid), threadsCPU(b, relayPID)
	daemonSwitches, relaySwitches := threadsSwitches(b, d.pid), threadsSwitches(b, relayPID)
	daemonWrites := writeCalls(b, d.pid)
	b.ResetTimer()
	for range b.N {
		daemonLat = append(daemonLat, timeCreate(daemonDir, viaDaemon))
		rawLat = append(rawLat, timeCreate(rawDir, viaRaw))
		relayLat = append(relayLat, timeCreate(relayDir, viaRelay))
	}
	b.StopTimer()
	// Two events per iteration: the create and the removal.
	perEvent := func(cpu time.Duration) float64 { return float64(cpu) / float64(2*b.N) / float64(time.Microsecond) }
	b.ReportMetric(perEvent(threadsCPU(b, d.pid)-daemonCPU), "daemon-cpu-µs/event")
	b.ReportMetric(perEvent(threadsCPU(b, relayPID)-relayCPU), "relay-cpu-µs/event")
	// Each sleep and wakeup of a thread is a context switch; on this path
	// they cost more than the work itself.
	b.ReportMetric(float64(threadsSwitches(b, d.pid)-daemonSwitches)/float64(2*b.N), "daemon-switches/event")
	b.ReportMetric(float64(threadsSwitches(b, relayPID)-relaySwitches)/float64(2*b.N), "relay-switches/event")
	b.ReportMetric(float64(writeCalls(b, d.pid)-daemonWrites)/float64(2*b.N), "daemon-writes/event")
	for _, l := range [][]time.Duration{daemonLat, rawLat, relayLat} {
		slices.Sort(l)
	}
	p50, p99 := percentileUS(daemonLat, 0.50), percentileUS(daemonLat, 0.99)
	rawP50, rawP99 := percentileUS(rawLat, 0.50), percentileUS(rawLat, 0.99)
	relayP50, relayP99 := percentileUS(relayLat, 0.50), percentileUS(relayLat, 0.99)
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(p99, "p99-µs")
	b.ReportMetric(rawP50, "raw-p50-µs")
	b.ReportMetric(rawP99, "raw-p99-µs")
	b.ReportMetric(relayP50, "relay-p50-µs")
	b.ReportMetric(relayP99, "relay-p99-µs")
	b.ReportMetric(p50/rawP50, "p50/raw")
	b.ReportMetric(p99/rawP99, "p99/raw")
	b.ReportMetric(p50/relayP50, "p50/relay")
	b.ReportMetric(p99/relayP99, "p99/relay")
}

// watchLineReader awaits the next event line of a watch stream, which must
// contain want (an op, quoted); keepalive lines are skipped.
func watchLineReader(b *testing.B, lines *bufio.Reader) func(want string) {
	return func(want string) {
		for {
			line, err := lines.ReadSlice('\n')
			if err != nil {
				b.Fatalf("stream: %v", err)
			}
			if bytes.Contains(line, []byte(want)) {
				return
			}
			if !bytes.HasPrefix(line, []byte("[keepalive]")) {
				b.Fatalf("got %q, want a line with %s", line, want)
			}
		}
	}
}

// BenchmarkWatchEventBurst: burst files created at once → the CREATE line
// of the last read by the client, beside the relay of the latency benchmark
// (which writes whatever one read of inotify returned with one write), in
// the same run. daemon-writes/event says how well the stream batches: one
// write per event would be 1.
func BenchmarkWatchEventBurst(b *testing.B) {
	const burst = 256
	d := startDaemon(b, daemonOptions{})
	daemonDir, relayDir := memoryDir(b), memoryDir(b)
	resp, err := d.stream.Get(d.url + "/watch/filesystem/" + url.PathEscape(daemonDir))
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b.Fatalf("watch: status %d", resp.StatusCode)
	}
	viaDaemon := watchLineReader(b, bufio.NewReader(resp.Body))
	viaRelay, _ := startRelay(b, relayDir)

	// timeBurst creates the files, returns how long until the last event
	// was read, then removes them and reads their events (untimed).
	timeBurst := func(dir string, await func(want string)) time.Duration {
		start := time.Now()
		for i := range burst {
			f, err := os.OpenFile(filepath.Join(dir, strconv.Itoa(i)), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
			if err != nil {
				b.Fatal(err)
			}
			_ = f.Close()
		}
		for range burst {
			await(`"CREATE"`)
		}
		took := time.Since(start)
		for i := range burst {
			if err := os.Remove(filepath.Join(dir, strconv.Itoa(i))); err != nil {
				b.Fatal(err)
			}
		}
		for range burst {
			await(`"REMOVE"`)
		}
		return took
	}
	for range 5 {
		timeBurst(daemonDir, viaDaemon)
		timeBurst(relayDir, viaRelay)
	}
	daemonLat := make([]time.Duration, 0, b.N)
	relayLat := make([]time.Duration, 0, b.N)
	writes := writeCalls(b, d.pid)
	b.ResetTimer()
	for range b.N {
		daemonLat = append(daemonLat, timeBurst(daemonDir, viaDaemon))
		relayLat = append(relayLat, timeBurst(relayDir, viaRelay))
	}
	b.StopTimer()
	b.ReportMetric(float64(writeCalls(b, d.pid)-writes)/float64(2*burst*b.N), "daemon-writes/event")
	slices.Sort(daemonLat)
	slices.Sort(relayLat)
	p50, relayP50 := percentileUS(daemonLat, 0.50), percentileUS(relayLat, 0.50)
	b.ReportMetric(p50, "p50-µs")
	b.ReportMetric(relayP50, "relay-p50-µs")
	b.ReportMetric(p50/relayP50, "p50/relay")
}

// startRelay runs the helper's inotify relay on dir and returns what awaits
// its next line (one per event; creates and removals alternate), and its pid.
func startRelay(b *testing.B, dir string) (await func(string), pid int) {
	cmd := exec.Command(helperBin, "relay", dir)
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	first, err := bufio.NewReader(out).ReadString('\n')
	addr, ok := strings.CutPrefix(strings.TrimSpace(first), "listening ")
	if err != nil || !ok {
		b.Fatalf("relay said %q, %v", first, err)
	}
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = c.Close() })
	lines := bufio.NewReader(c)
	return func(string) {
		if line, err := lines.ReadSlice('\n'); err != nil || len(line) < 2 {
			b.Fatalf("relay: %q, %v", line, err)
		}
	}, cmd.Process.Pid
}

// memoryDir is a new folder on tmpfs (/dev/shm), removed after b; b.TempDir()
// when there is none.
func memoryDir(b *testing.B) string {
	var fs syscall.Statfs_t
	const tmpfsMagic = 0x01021994
	if err := syscall.Statfs("/dev/shm", &fs); err != nil || fs.Type != tmpfsMagic {
		return b.TempDir()
	}
	dir, err := os.MkdirTemp("/dev/shm", "sandbox-api-bench-")
	if err != nil {
		return b.TempDir()
	}
	b.Cleanup(func() { _ = os.RemoveAll(dir) })
	return dir
}

// threadsSwitches is how many times the threads of pid have been switched
// out so far, voluntarily (to sleep) or not.
func threadsSwitches(b *testing.B, pid int) int {
	b.Helper()
	dir := fmt.Sprintf("/proc/%d/task", pid)
	tasks, err := os.ReadDir(dir)
	if err != nil {
		b.Fatal(err)
	}
	total := 0
	for _, t := range tasks {
		data, err := os.ReadFile(dir + "/" + t.Name() + "/status")
		if err != nil {
			continue // the thread ended
		}
		for line := range strings.Lines(string(data)) {
			if rest, ok := strings.CutPrefix(line, "voluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(rest))
				total += n
			} else if rest, ok := strings.CutPrefix(line, "nonvoluntary_ctxt_switches:"); ok {
				n, _ := strconv.Atoi(strings.TrimSpace(rest))
				total += n
			}
		}
	}
	return total
}

// writeCalls is how many write system calls pid has made so far (all its
// threads).
func writeCalls(b *testing.B, pid int) int {
	b.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", pid))
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "syscw:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(rest))
			return n
		}
	}
	b.Fatalf("no syscw in /proc/%d/io", pid)
	return 0
}
