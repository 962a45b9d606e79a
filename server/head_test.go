package server

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/terminal"
)

func TestHeadRoutesFollowGet(t *testing.T) {
	var inline atomic.Int32
	s := newTestServer(t, Options{}, func(r chi.Router) {
		r.Get("/plain", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("X-Route", "plain")
			writeJSON(w, http.StatusTeapot, map[string]string{"a": "b"})
		})
		// A route's own middleware runs for its HEAD too, once.
		r.With(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				inline.Add(1)
				w.Header().Set("X-Inline", "yes")
				next.ServeHTTP(w, r)
			})
		}).Get("/inline", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusAccepted) })
		// Routes of groups and subrouters answer HEAD too.
		r.Group(func(g chi.Router) {
			g.Get("/grouped", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusCreated) })
		})
		r.Route("/sub", func(sub chi.Router) {
			sub.Get("/x", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusPartialContent) })
		})
		// A route with a HEAD of its own keeps it.
		r.Get("/own", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
		r.Head("/own", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
		r.Post("/post-only", func(w http.ResponseWriter, _ *http.Request) {})
	})
	tests := []struct {
		path         string
		status       int
		header, want string
	}{
		{"/plain", http.StatusTeapot, "X-Route", "plain"},
		{"/inline", http.StatusAccepted, "X-Inline", "yes"},
		{"/grouped", http.StatusCreated, "", ""},
		{"/sub/x", http.StatusPartialContent, "", ""},
		{"/own", http.StatusNoContent, "", ""},
		{"/post-only", http.StatusMethodNotAllowed, "", ""},
		{"/health", http.StatusOK, "Content-Type", "application/json"},
		{"/", http.StatusOK, "Content-Type", "application/json"},
		{"/drives/mount", http.StatusOK, "Content-Type", "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			inline.Store(0)
			rec := s.do(httptest.NewRequest(http.MethodHead, tt.path, nil))
			if rec.Code != tt.status {
				t.Errorf("HEAD %s: %d, want %d", tt.path, rec.Code, tt.status)
			}
			if tt.header != "" && rec.Header().Get(tt.header) != tt.want {
				t.Errorf("HEAD %s: %s = %q, want %q", tt.path, tt.header, rec.Header().Get(tt.header), tt.want)
			}
			if tt.path == "/inline" && inline.Load() != 1 {
				t.Errorf("HEAD /inline ran its middleware %d times, want once", inline.Load())
			}
		})
	}
}

// headersOnly stops a stream once its headers are chosen, and keeps them.
func TestHeadersOnlyStopsAStream(t *testing.T) {
	tests := []struct {
		name   string
		status int
		stream bool
	}{
		{"a stream", http.StatusOK, true},
		{"an error before the stream", http.StatusNotFound, false},
		{"an implicit 200 by a first write", 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var writeErr error
			stream := func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-ndjson")
				if tt.status != 0 {
					w.WriteHeader(tt.status)
				}
				if !tt.stream {
					return
				}
				_ = http.NewResponseController(w).Flush()
				for {
					if _, err := w.Write([]byte("{}\n")); err != nil {
						writeErr = err
					}
					select {
					case <-r.Context().Done():
						return
					case <-time.After(time.Millisecond):
					}
				}
			}
			done := make(chan *httptest.ResponseRecorder)
			go func() {
				rec := httptest.NewRecorder()
				headersOnly(stream)(rec, httptest.NewRequest(http.MethodHead, "/s", nil))
				done <- rec
			}()
			var rec *httptest.ResponseRecorder
			select {
			case rec = <-done:
			case <-time.After(testsupport.HangGuard):
				t.Fatal("the stream did not stop")
			}
			want := tt.status
			if want == 0 {
				want = http.StatusOK
			}
			if rec.Code != want || rec.Header().Get("Content-Type") != "application/x-ndjson" || rec.Body.Len() != 0 {
				t.Errorf("got %d %q with %d body bytes, want %d and no body", rec.Code, rec.Header().Get("Content-Type"), rec.Body.Len(), want)
			}
			if tt.stream && !errors.Is(writeErr, http.ErrBodyNotAllowed) {
				t.Errorf("a write got %v, want ErrBodyNotAllowed", writeErr)
			}
		})
	}
}

// Every GET route of the API, those of optional services included, has a
// HEAD: a route registered some other way than through headAlongside
// (r.Method("GET", ...), a mounted router) would fail here.
func TestEveryGetRouteHasHead(t *testing.T) {
	svc := Services{Network: &network.Service{}, Terminals: &terminal.Manager{}}
	r, ok := newHandler(Options{Logger: zap.NewNop()}, svc, nil).(chi.Routes)
	if !ok {
		t.Fatal("the API is not a chi router")
	}
	methods := map[string]map[string]bool{}
	err := chi.Walk(r, func(method, pattern string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		if methods[pattern] == nil {
			methods[pattern] = map[string]bool{}
		}
		methods[pattern][method] = true
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	gets := 0
	for pattern, m := range methods {
		if !m[http.MethodGet] {
			continue
		}
		gets++
		if !m[http.MethodHead] {
			t.Errorf("GET %s has no HEAD", pattern)
		}
	}
	if gets < 20 {
		t.Fatalf("walked %d GET routes; the API has more", gets)
	}
}
