package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// BenchmarkUpgradeSwitch: POST /upgrade (download from a local release
// site, checks, switch) until the new version answers /health, while a
// client calls /health in a tight loop, each call on a new connection.
// Each op is one switch, v1 and v2 in turn, with a counter process running.
//
// Baselines, measured in the same iteration: a cold start of the same
// binary until it answers /health (what restarting the daemon would cost
// at best, before anything it ran is lost), and the longest /health call
// of the same loop run for as many calls with no switch.
//
//	switch-ms, coldstart-ms, switch/coldstart
//	maxlat-switch-ms, maxlat-idle-ms, maxlat-switch/idle
//
// Any failed /health call fails the benchmark. Sub-benchmarks: "release"
// downloads the binary from the release site (the contract's request);
// "binaryPath" copies it from a local path, leaving the checks and the
// switch itself.
func BenchmarkUpgradeSwitch(b *testing.B) {
	bins := upgradeBinaries(b)
	site := releaseSite(b, map[string]string{"v1": bins["v1"], "v2": bins["v2"]}, nil)
	b.Run("release", func(b *testing.B) {
		benchmarkSwitch(b, bins, func(version string) map[string]string {
			return map[string]string{"version": version, "baseUrl": site}
		})
	})
	b.Run("binaryPath", func(b *testing.B) {
		benchmarkSwitch(b, bins, func(version string) map[string]string {
			return map[string]string{"binaryPath": bins[version]}
		})
	})
}

// benchmarkSwitch switches between v1 and v2 b.N times, with the request
// body request gives for a version.
func benchmarkSwitch(b *testing.B, bins map[string]string, request func(version string) map[string]string) {
	d := startDaemon(b, daemonOptions{bin: bins["v1"], args: []string{"--upgrade-dir", b.TempDir()}})
	d.exec(map[string]any{"name": "counter", "command": "i=0; while :; do i=$((i+1)); echo $i; sleep 0.02; done"})

	var switchTotal, coldTotal, latSwitch, latIdle time.Duration
	current := "v1"
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		next := map[string]string{"v1": "v2", "v2": "v1"}[current]

		b.StopTimer()
		coldTotal += coldStart(b, bins[next])
		b.StartTimer()

		loop := startHealthLoop(d.url)
		start := time.Now()
		d.doJSON(http.MethodPost, "/upgrade", request(next), http.StatusOK, nil)
		testsupport.Eventually(b, func() (bool, string) {
			h := d.health()
			return h.Version == next, fmt.Sprintf("still %s: %+v", h.Version, h.LastUpgrade)
		})
		switchTotal += time.Since(start)
		calls, failures, longest := loop.end()
		if len(failures) > 0 {
			b.Fatalf("%d of %d /health calls failed during the switch: %q", len(failures), calls, failures[:min(len(failures), 5)])
		}
		latSwitch += longest
		current = next

		b.StopTimer()
		latIdle += idleLongest(b, d.url, calls)
		b.StartTimer()
	}
	b.StopTimer()
	n := float64(b.N)
	ms := func(d time.Duration) float64 { return float64(d) / n / float64(time.Millisecond) }
	b.ReportMetric(ms(switchTotal), "switch-ms")
	b.ReportMetric(ms(coldTotal), "coldstart-ms")
	b.ReportMetric(float64(switchTotal)/float64(coldTotal), "switch/coldstart")
	b.ReportMetric(ms(latSwitch), "maxlat-switch-ms")
	b.ReportMetric(ms(latIdle), "maxlat-idle-ms")
	b.ReportMetric(float64(latSwitch)/float64(latIdle), "maxlat-switch/idle")
}

// coldStart starts bin on a free port with a log folder of its own and
// returns the time until it answers /health, polled on new connections as
// the switch is; then it stops it.
func coldStart(b *testing.B, bin string) time.Duration {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	url := "http://127.0.0.1:" + strconv.Itoa(port) + "/health"
	client := &http.Client{Timeout: hangGuard, Transport: &http.Transport{DisableKeepAlives: true}}
	defer client.CloseIdleConnections()

	cmd := exec.Command(bin, "-p", strconv.Itoa(port), "--log-dir", b.TempDir())
	cmd.Dir = b.TempDir()
	cmd.WaitDelay = hangGuard
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}()
	testsupport.Eventually(b, func() (bool, string) {
		resp, err := client.Get(url)
		if err != nil {
			return false, fmt.Sprintf("a cold start of %s never answered: %v", bin, err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, fmt.Sprintf("a cold start of %s answered %s", bin, resp.Status)
	})
	return time.Since(start)
}

// idleLongest runs the /health loop for calls calls with no switch, and
// returns its longest call.
func idleLongest(b *testing.B, url string, calls int) time.Duration {
	b.Helper()
	loop := startHealthLoop(url)
	testsupport.Until(b, "the idle /health loop", func() bool { return loop.callsMade() >= calls })
	_, failures, longest := loop.end()
	if len(failures) > 0 {
		b.Fatalf("/health calls failed with no switch: %q", failures[:min(len(failures), 5)])
	}
	return longest
}
