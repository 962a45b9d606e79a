package main

// Benchmarks of files and folders through the daemon, each beside a raw
// baseline measured in the same run on the same disk.

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const filesBenchSize = 256 << 20

// filesBenchSource writes a 256 MiB file of a non-trivial pattern.
func filesBenchSource(b *testing.B, dir string) string {
	b.Helper()
	src := filepath.Join(dir, "source.bin")
	f, err := os.Create(src)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 1<<20)
	for i := range buf {
		buf[i] = byte(i*7 + i>>8)
	}
	for written := 0; written < filesBenchSize; written += len(buf) {
		if _, err := f.Write(buf); err != nil {
			b.Fatal(err)
		}
	}
	return src
}

// filesRawCopy copies src to a new dst through a 1 MiB buffer in user space
// (no copy_file_range shortcut), syncing it when sync is set: the physical
// cost of moving the bytes onto the same disk.
func filesRawCopy(src, dst string, sync bool) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	defer out.Close()
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 1<<20)); err != nil {
		return err
	}
	if sync {
		return out.Sync()
	}
	return nil
}

func filesMiBps(n int64, d time.Duration) float64 {
	return float64(n) / (1 << 20) / d.Seconds()
}

// BenchmarkFSUpload256MB: PUT of a 256 MiB raw body (streamed to a
// temporary file, synced, renamed) against a user-space copy of the same
// file on the same disk, synced too.
func BenchmarkFSUpload256MB(b *testing.B) {
	d := startDaemon(b, daemonOptions{})
	src := filesBenchSource(b, d.workDir)
	dest := filepath.Join(d.workDir, "uploaded.bin")
	client := &http.Client{Timeout: 5 * time.Minute}
	upload := func() {
		f, err := os.Open(src)
		if err != nil {
			b.Fatal(err)
		}
		defer f.Close()
		req, err := http.NewRequest(http.MethodPut, d.url+filesEnc("/filesystem/", dest), struct{ io.Reader }{f})
		if err != nil {
			b.Fatal(err)
		}
		req.ContentLength = filesBenchSize
		req.Header.Set("Content-Type", "application/octet-stream")
		doOK(b, client, req, "upload")
	}
	var daemonTime, rawTime time.Duration
	b.SetBytes(filesBenchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		raw := filepath.Join(d.workDir, "raw-copy.bin")
		start := time.Now()
		if err := filesRawCopy(src, raw, true); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		_ = os.Remove(raw)
		b.StartTimer()

		start = time.Now()
		upload()
		daemonTime += time.Since(start)

		b.StopTimer()
		if fi, err := os.Stat(dest); err != nil || fi.Size() != filesBenchSize {
			b.Fatalf("uploaded file: %v %v", fi, err)
		}
		_ = os.Remove(dest)
		b.StartTimer()
	}
	b.StopTimer()
	total := int64(filesBenchSize) * int64(b.N)
	b.ReportMetric(filesMiBps(total, daemonTime), "upload-MiB/s")
	b.ReportMetric(filesMiBps(total, rawTime), "raw-copy-sync-MiB/s")
	b.ReportMetric(rawTime.Seconds()/daemonTime.Seconds(), "upload/raw")
}

// BenchmarkFSDownload256MB: GET with Accept: application/octet-stream of
// a 256 MiB file, read to the end, against two baselines (page cache warm
// for all): a user-space copy of the same file on the same disk, and the
// file sent bare over a loopback TCP connection from this process
// (io.Copy, so sendfile) and read the same way: the floor of any download,
// which the file copy is not (it never crosses a socket).
func BenchmarkFSDownload256MB(b *testing.B) {
	d := startDaemon(b, daemonOptions{})
	src := filesBenchSource(b, d.workDir)
	client := &http.Client{Timeout: 5 * time.Minute}
	download := func() {
		req, err := http.NewRequest(http.MethodGet, d.url+filesEnc("/filesystem/", src), nil)
		if err != nil {
			b.Fatal(err)
		}
		req.Header.Set("Accept", "application/octet-stream")
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, resp.Body, make([]byte, 1<<20))
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || n != filesBenchSize {
			b.Fatalf("download: %d, %d bytes, %v", resp.StatusCode, n, err)
		}
	}
	download() // warm the page cache and the connection
	viaSocket := filesLoopbackSender(b, src)
	var daemonTime, rawTime, socketTime time.Duration
	b.SetBytes(filesBenchSize)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		raw := filepath.Join(d.workDir, "raw-copy.bin")
		start := time.Now()
		if err := filesRawCopy(src, raw, false); err != nil {
			b.Fatal(err)
		}
		rawTime += time.Since(start)
		_ = os.Remove(raw)
		start = time.Now()
		viaSocket()
		socketTime += time.Since(start)
		b.StartTimer()

		start = time.Now()
		download()
		daemonTime += time.Since(start)
	}
	b.StopTimer()
	total := int64(filesBenchSize) * int64(b.N)
	b.ReportMetric(filesMiBps(total, daemonTime), "download-MiB/s")
	b.ReportMetric(filesMiBps(total, rawTime), "raw-copy-MiB/s")
	b.ReportMetric(rawTime.Seconds()/daemonTime.Seconds(), "download/raw")
	b.ReportMetric(filesMiBps(total, socketTime), "raw-socket-MiB/s")
	b.ReportMetric(socketTime.Seconds()/daemonTime.Seconds(), "download/raw-socket")
}

// filesLoopbackSender listens on loopback and sends src, bare, to each
// connection; the function it returns dials, reads the file to the end
// through a 1 MiB buffer as the benchmark's client does, and checks its
// size.
func filesLoopbackSender(b *testing.B, src string) func() {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			f, err := os.Open(src)
			if err == nil {
				_, _ = io.Copy(conn, f) // *net.TCPConn from *os.File: sendfile
				f.Close()
			}
			conn.Close()
		}
	}()
	buf := make([]byte, 1<<20)
	return func() {
		conn, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			b.Fatal(err)
		}
		n, err := io.CopyBuffer(io.Discard, conn, buf)
		conn.Close()
		if err != nil || n != filesBenchSize {
			b.Fatalf("loopback baseline: %d bytes, %v", n, err)
		}
	}
}

// BenchmarkFSList10kFiles: GET of a folder of 10,000 files (the listing
// with owner, group, mode, size and time of each, 1.6 MB of JSON, read to
// the end) against os.ReadDir plus an Lstat of every entry in the
// benchmark process.
func BenchmarkFSList10kFiles(b *testing.B) {
	const files = 10_000
	d := startDaemon(b, daemonOptions{})
	dir := filepath.Join(d.workDir, "many")
	if err := os.Mkdir(dir, 0o755); err != nil {
		b.Fatal(err)
	}
	for i := 0; i < files; i++ {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("file-%05d.txt", i)), []byte("x"), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	client := &http.Client{Timeout: hangGuard}
	list := func() {
		resp, err := client.Get(d.url + filesEnc("/filesystem/", dir))
		if err != nil {
			b.Fatal(err)
		}
		// Read whole, counted rather than decoded: the figure is the
		// daemon's, not the JSON decoder's of the benchmark.
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if n := bytes.Count(body, []byte(`"lastModified":`)); err != nil || resp.StatusCode != http.StatusOK || n != files {
			b.Fatalf("listing: %d, %d files, %v", resp.StatusCode, n, err)
		}
	}
	raw := func() {
		entries, err := os.ReadDir(dir)
		if err != nil {
			b.Fatal(err)
		}
		for _, e := range entries {
			if _, err := os.Lstat(filepath.Join(dir, e.Name())); err != nil {
				b.Fatal(err)
			}
		}
		if len(entries) != files {
			b.Fatalf("raw read %d entries", len(entries))
		}
	}
	list()
	raw()
	var daemonTime, rawTime time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		start := time.Now()
		raw()
		rawTime += time.Since(start)
		b.StartTimer()

		start = time.Now()
		list()
		daemonTime += time.Since(start)
	}
	b.StopTimer()
	ms := func(t time.Duration) float64 { return float64(t) / float64(b.N) / float64(time.Millisecond) }
	b.ReportMetric(ms(daemonTime), "list-ms")
	b.ReportMetric(ms(rawTime), "raw-readdir-lstat-ms")
	b.ReportMetric(ms(daemonTime)/ms(rawTime), "list/raw")
}
