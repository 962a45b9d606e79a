package mcp

import (
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"
)

// BenchmarkHandlerBuild: the heap one MCP handler holds once built (the
// cost of the first /mcp request), the hand-written one beside the SDK's
// (the oracle, as the daemon built it before), measured in the same run.
func BenchmarkHandlerBuild(b *testing.B) {
	heldBy := func(build func() http.Handler) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		h := build()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(h)
		return float64(after.HeapAlloc) - float64(before.HeapAlloc)
	}
	var hand, sdk float64
	for i := 0; i < b.N; i++ {
		hand += heldBy(func() http.Handler { return Handler(Services{}) })
		sdk += heldBy(func() http.Handler { return oracleHandler(Services{}) })
	}
	b.ReportMetric(hand/float64(b.N)/1024, "hand-KiB")
	b.ReportMetric(sdk/float64(b.N)/1024, "sdk-KiB")
	b.ReportMetric(hand/sdk, "hand/sdk")
}

// BenchmarkToolsCall: one tools/call (fsGetWorkingDirectory, which does
// almost nothing, so the protocol's own cost shows) through each handler,
// alternated in the same run.
func BenchmarkToolsCall(b *testing.B) {
	hand, _ := newDiffEnv(b, Handler)
	sdk, _ := newDiffEnv(b, oracleHandler)
	body := toolCall("fsGetWorkingDirectory", "{}")
	run := func(h http.Handler) time.Duration {
		r := httptest.NewRequest("POST", "/mcp", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		r.Header.Set("Accept", accept)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		took := time.Since(start)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
		return took
	}
	var handTook, sdkTook time.Duration
	for i := 0; i < b.N; i++ {
		handTook += run(hand)
		sdkTook += run(sdk)
	}
	b.ReportMetric(float64(handTook.Microseconds())/float64(b.N), "hand-us/op")
	b.ReportMetric(float64(sdkTook.Microseconds())/float64(b.N), "sdk-us/op")
	b.ReportMetric(float64(handTook)/float64(sdkTook), "hand/sdk")
}
