package main

import (
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
	select {
	case rec := <-answered:
		t.Fatalf("answered %d before the gate opened", rec.Code)
	default:
	}
	g.open(42)
	if rec := testsupport.Receive(t, answered, "the held request's answer"); rec.Code != http.StatusTeapot {
		t.Errorf("held request: %d, want the API's answer", rec.Code)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/health", nil))
	if rec.Code != http.StatusTeapot {
		t.Errorf("later request: %d, want the API's answer", rec.Code)
	}
	// The API was built once, over what the gate was opened with.
	if with := testsupport.Receive(t, built, "the API's build"); with != 42 {
		t.Errorf("API built over %d, want 42", with)
	}
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
