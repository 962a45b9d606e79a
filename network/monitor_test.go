package network

import (
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

func TestCallbackRetries(t *testing.T) {
	tests := []struct {
		name      string
		failFirst int32 // answers 500 this many times, then 204
		wantHits  int32
	}{
		{"first try", 0, 1},
		{"recovers", 2, 3},
		{"gives up", 100, callbackAttempts},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if hits.Add(1) <= tt.failFirst {
					w.WriteHeader(http.StatusInternalServerError)
					return
				}
				w.WriteHeader(http.StatusNoContent)
			}))
			defer srv.Close()
			m := newMonitor(New(Config{}), nil, srv.URL)
			m.post(m.ctx, pendingPost{Event: PortEvent{Port: 1}})
			if got := hits.Load(); got != tt.wantHits {
				t.Errorf("callback hit %d times, want %d", got, tt.wantHits)
			}
		})
	}
}

// A callback that never answers is cut by the client timeout, so delivery
// moves on.
func TestCallbackTimeout(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer srv.Close()
	defer close(release)
	m := newMonitor(New(Config{Client: &http.Client{Timeout: 50 * time.Millisecond}}), nil, srv.URL)
	done := make(chan struct{})
	go func() {
		m.post(m.ctx, pendingPost{Event: PortEvent{Port: 1}})
		close(done)
	}()
	testsupport.Receive(t, done, "post to give up on a hanging callback")
}

func TestValidateCallback(t *testing.T) {
	for _, tt := range []struct {
		in string
		ok bool
	}{
		{"http://127.0.0.1:8080/cb", true},
		{"https://example.com/x", true},
		{"ftp://example.com", false},
		{"/relative", false},
		{"", false},
	} {
		if err := ValidateCallback(tt.in); (err == nil) != tt.ok {
			t.Errorf("ValidateCallback(%q) = %v, want ok=%v", tt.in, err, tt.ok)
		}
	}
}
