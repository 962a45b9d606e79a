package main

import (
	"bytes"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"
)

// execBody is the exec BenchmarkExecTrue asks of every server.
var execBody = []byte(`{"command":"true","waitForCompletion":true}`)

// execSide is one server of BenchmarkExecTrue: an exec and a bare round
// trip through a bare client (the figures), and an exec through Go's
// http.Client (the gohttp- figures: what that client adds), each on a
// connection of its own, with the latencies each one read.
type execSide struct {
	exec, health, goExec    func() time.Duration
	execs, healths, goExecs []time.Duration
}

// newExecSide connects to the server at addr (host:port).
func newExecSide(b *testing.B, addr string) *execSide {
	bc := dialBare(b, addr)
	execReq := bc.bareRequest("POST", "/process", "application/json", execBody)
	healthReq := bc.bareRequest("GET", "/health", "", nil)
	gc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: hangGuard}
	return &execSide{
		exec: func() time.Duration {
			start := time.Now()
			status, out, err := bc.roundTrip(execReq)
			took := time.Since(start)
			checkExecAnswer(b, status, out, err)
			return took
		},
		health: func() time.Duration {
			start := time.Now()
			status, out, err := bc.roundTrip(healthReq)
			took := time.Since(start)
			if err != nil || status != http.StatusOK {
				b.Fatalf("GET /health: %d %v %s", status, err, out)
			}
			return took
		},
		goExec: func() time.Duration {
			start := time.Now()
			resp, err := gc.Post("http://"+addr+"/process", "application/json", bytes.NewReader(execBody))
			if err != nil {
				b.Fatal(err)
			}
			out, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			checkExecAnswer(b, resp.StatusCode, out, err)
			return took
		},
	}
}

// checkExecAnswer fails the benchmark unless the exec completed.
func checkExecAnswer(b *testing.B, status int, out []byte, err error) {
	if err != nil || status != http.StatusOK || !bytes.Contains(out, []byte(`"status":"completed"`)) {
		b.Fatalf("POST /process: %d %v %s", status, err, out)
	}
}

// idlePause is the quiet before each step of the execs from idle: long
// enough for every vCPU to halt and the daemon's threads to sleep, as
// between the commands of an agent that thinks for seconds.
const idlePause = 20 * time.Millisecond

// minIdleRounds is the fewest rounds from idle whose medians are reported.
const minIdleRounds = 24

// execsFromIdle runs rounds of the raw fork/exec and one exec of each side,
// in pairOrder, each step after idlePause, and returns their latencies
// sorted. A back-to-back run keeps the vCPUs and the daemon's threads
// awake; from idle, every hand-off between threads and every cold cache
// costs more (docs/measured.md).
func execsFromIdle(sides []*execSide, raw func() time.Duration, rounds int) (rawLat []time.Duration, execs map[*execSide][]time.Duration) {
	execs = make(map[*execSide][]time.Duration, len(sides))
	steps := []func(){func() { rawLat = append(rawLat, raw()) }}
	for _, s := range sides {
		steps = append(steps, func() { execs[s] = append(execs[s], s.exec()) })
	}
	for _, k := range pairOrderSteps(len(steps), rounds) {
		time.Sleep(idlePause)
		steps[k]()
	}
	slices.Sort(rawLat)
	for _, lat := range execs {
		slices.Sort(lat)
	}
	return rawLat, execs
}
