package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// readExecFrames reads a streamed exec's ndjson to its end and returns the
// bytes of stdout it carried, counted without a full JSON decode (the
// generator's output is 'x' and newlines only, a newline escaped as \n),
// and whether a result frame came.
func readExecFrames(r io.Reader) (payload int64, result bool, err error) {
	const head, tail = `{"type":"stdout","data":"`, "\"}\n"
	br := bufio.NewReaderSize(r, 256<<10)
	inResult := false // the result frame holds the whole output: skip it
	for {
		line, err := br.ReadSlice('\n')
		switch {
		case inResult || bytes.HasPrefix(line, []byte(`{"type":"result"`)):
			result = true
			inResult = errors.Is(err, bufio.ErrBufferFull)
			if inResult {
				continue
			}
		case errors.Is(err, bufio.ErrBufferFull):
			return payload, false, fmt.Errorf("an output frame longer than %d bytes", br.Size())
		case bytes.HasPrefix(line, []byte(head)) && bytes.HasSuffix(line, []byte(tail)):
			data := line[len(head) : len(line)-len(tail)]
			payload += int64(len(data) - bytes.Count(data, []byte(`\n`)))
		}
		if errors.Is(err, io.EOF) {
			return payload, result, nil
		}
		if err != nil {
			return payload, result, err
		}
	}
}

// BenchmarkExecStream: 200 MiB of 100-byte lines written by a process and
// read through a streamed exec (POST /process, Accept: text/event-stream),
// against the same generator piped into a reader that throws it away
// (daemon/raw), and the same through a pipe as large as the daemon gives a
// fast writer (daemon/raw-1MiB-pipe), and against the same generator
// through that pipe into a new file that is kept (daemon/raw-kept): the
// floor of output that must not be lost. ns/op and MB/s cover the daemon
// path only; the ratios are of the rates. With BENCH_BEFORE_BIN, that
// build streams the same exec in each round too (before-MiB/s, before/raw,
// before/raw-kept).
func BenchmarkExecStream(b *testing.B) {
	const total, lineLen = 200 << 20, 100
	caps := []string{"--log-max-process-bytes", strconv.Itoa(1 << 30), "--log-max-total-bytes", strconv.Itoa(4 << 30)}
	d := startDaemon(b, daemonOptions{args: caps})
	var before *daemon
	if bin := beforeBin(); bin != "" {
		before = startDaemon(b, daemonOptions{bin: bin, args: caps})
	}
	genArgs := []string{"gen", strconv.Itoa(total), strconv.Itoa(lineLen)}
	wantPayload := int64(total / lineLen * lineLen)
	command := "exec " + testsupport.ShellQuote(helperBin) + " " + strings.Join(genArgs, " ")
	streamExec := func(d *daemon) time.Duration {
		start := time.Now()
		resp := d.openStream(b.Context(), http.MethodPost, "/process", map[string]any{"command": command, "waitForCompletion": true}, "Accept", "text/event-stream")
		payload, result, err := readExecFrames(resp.Body)
		resp.Body.Close()
		took := time.Since(start)
		if err != nil || !result || payload != wantPayload {
			b.Fatalf("streamed exec: %d bytes of %d, result %v, %v", payload, wantPayload, result, err)
		}
		return took
	}
	keep := keepInNewFiles(b.TempDir(), wantPayload)
	var rawTime, bigPipeTime, keptTime, daemonTime, beforeTime time.Duration
	// The kept-output floor and the daemons write new pages: they take
	// turns going first, so that none always finds what the last freed.
	steps := []func(){
		func() { keptTime += timeRawPipeline(b, genArgs, daemonPipeSize, keep) },
		func() {
			b.StartTimer()
			daemonTime += streamExec(d)
			b.StopTimer()
		},
	}
	if before != nil {
		steps = append(steps, func() { beforeTime += streamExec(before) })
	}
	runInTurns(steps, 0) // untimed (runInTurns)
	keptTime, daemonTime, beforeTime = 0, 0, 0
	b.SetBytes(wantPayload)
	b.ResetTimer()
	b.StopTimer()
	for i := 0; i < b.N; i++ {
		// Baseline: the generator through a pipe, read and thrown away,
		// with the kernel's default pipe and with the daemon's larger one.
		discard := func(r io.Reader) error {
			n, err := io.CopyBuffer(io.Discard, r, make([]byte, 256<<10))
			if err == nil && n != wantPayload {
				err = fmt.Errorf("%d bytes", n)
			}
			return err
		}
		rawTime += timeRawPipeline(b, genArgs, 0, discard)
		bigPipeTime += timeRawPipeline(b, genArgs, daemonPipeSize, discard)
		runInTurns(steps, i)
	}
	b.StopTimer()
	mbps := func(d time.Duration) float64 { return float64(wantPayload) * float64(b.N) / (1 << 20) / d.Seconds() }
	b.ReportMetric(mbps(daemonTime), "daemon-MiB/s")
	b.ReportMetric(mbps(rawTime), "raw-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(rawTime), "daemon/raw")
	b.ReportMetric(mbps(bigPipeTime), "raw-1MiB-pipe-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(bigPipeTime), "daemon/raw-1MiB-pipe")
	b.ReportMetric(mbps(keptTime), "raw-kept-MiB/s")
	b.ReportMetric(mbps(daemonTime)/mbps(keptTime), "daemon/raw-kept")
	if before != nil {
		b.ReportMetric(mbps(beforeTime), "before-MiB/s")
		b.ReportMetric(mbps(beforeTime)/mbps(rawTime), "before/raw")
		b.ReportMetric(mbps(beforeTime)/mbps(keptTime), "before/raw-kept")
	}
}
