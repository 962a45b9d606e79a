package main

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// A request that comes during the start waits at the gate and gets the
// API's answer once it opens; one that comes after goes straight through.
func TestStartGateHoldsRequestsUntilOpen(t *testing.T) {
	g := newStartGate[int]()
	built := make(chan int, 2)
	h := g.through(func(with int) http.Handler {
		built <- with
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	})
	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		answered <- rec
	}()
	waitHeld(t, g, 1)
	select {
	case rec := <-answered:
		t.Fatalf("answered %d before the gate opened", rec.Code)
	default:
	}
	// prepare builds the API while the request still waits.
	g.prepare(42)
	select {
	case with := <-built:
		if with != 42 {
			t.Errorf("API built over %d, want 42", with)
		}
	default:
		t.Fatal("prepare did not build the API of the server made before it")
	}
	select {
	case rec := <-answered:
		t.Fatalf("answered %d after prepare, before the gate opened", rec.Code)
	default:
	}
	g.open()
	if rec := testsupport.Receive(t, answered, "the held request's answer"); rec.Code != http.StatusTeapot {
		t.Errorf("held request: %d, want the API's answer", rec.Code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("later request: %d, want the API's answer", rec.Code)
	}
	// The API was built once.
	select {
	case <-built:
		t.Error("the API was built twice for one server")
	default:
	}
}

// A start that fails answers 503 to what waits, and to what comes later.
func TestStartGateFailAnswers503(t *testing.T) {
	g := newStartGate[int]()
	h := g.through(func(int) http.Handler {
		t.Error("an API built after a failed start")
		return http.NotFoundHandler()
	})
	answered := make(chan *httptest.ResponseRecorder, 1)
	go func() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
		answered <- rec
	}()
	waitHeld(t, g, 1)
	g.fail()
	if rec := testsupport.Receive(t, answered, "the held request's answer"); rec.Code != http.StatusServiceUnavailable {
		t.Errorf("held request after a failed start: %d, want 503", rec.Code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusServiceUnavailable {
		t.Errorf("later request after a failed start: %d, want 503", rec.Code)
	}
}

// A server made once the gate is open (after a switch was abandoned)
// builds its API on its first request, and the gate keeps no hold on it.
func TestStartGateLaterServerBuildsOnFirstRequest(t *testing.T) {
	g := newStartGate[int]()
	g.prepare(7)
	g.open()
	built := 0
	h := g.through(func(with int) http.Handler {
		built++
		if with != 7 {
			t.Errorf("API built over %d, want 7", with)
		}
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	})
	if built != 0 {
		t.Fatal("a server made after open was built before its first request")
	}
	if len(g.servers) != 0 {
		t.Errorf("the gate holds %d servers after open, want none", len(g.servers))
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusTeapot || built != 1 {
		t.Errorf("first request: %d with %d builds, want the API's answer and one build", rec.Code, built)
	}
}

// waitHeld returns once n requests have waited at g: a request is then
// known to be held, and not merely not there yet.
func waitHeld[T any](t *testing.T, g *startGate[T], n int32) {
	t.Helper()
	testsupport.Eventually(t, func() (bool, string) {
		held := g.held.Load()
		return held >= n, fmt.Sprintf("%d requests held at the gate, want %d", held, n)
	})
}
