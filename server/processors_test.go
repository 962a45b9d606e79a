package server

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/procs"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/process"
)

// governorLog is a Governor whose raises and lowerings are written down
// (R, L; the first L is the governor's start).
type governorLog struct {
	mu    sync.Mutex
	calls strings.Builder
	fires []func()
}

func newGovernorLog() (*governorLog, *procs.Governor) {
	gl := &governorLog{}
	g := procs.New(func() { gl.write("R") }, func() { gl.write("L") }, time.Hour,
		func(_ time.Duration, f func()) func() bool {
			gl.mu.Lock()
			gl.fires = append(gl.fires, f)
			gl.mu.Unlock()
			return func() bool { return true }
		})
	return gl, g
}

func (gl *governorLog) write(s string) {
	gl.mu.Lock()
	gl.calls.WriteString(s)
	gl.mu.Unlock()
}

func (gl *governorLog) String() string {
	gl.mu.Lock()
	defer gl.mu.Unlock()
	return gl.calls.String()
}

// fireLast ends the linger of the newest lowering scheduled.
func (gl *governorLog) fireLast() {
	gl.mu.Lock()
	f := gl.fires[len(gl.fires)-1]
	gl.mu.Unlock()
	f()
}

// TestBulkRoutesRaiseProcessors: the routes that move bulk data raise the
// processor count even alone; any other request alone leaves it at one.
func TestBulkRoutesRaiseProcessors(t *testing.T) {
	root := t.TempDir()
	fsys, err := filesystem.New(filesystem.Config{WorkingDir: root, UploadDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fsys.Close)
	mgr, err := process.NewManager(process.Config{LogDir: t.TempDir(), WorkingDir: root})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mgr.Shutdown(time.Second) })
	dir := url.PathEscape(root)
	tests := []struct {
		method, target, accept string
		bulk                   bool
	}{
		{http.MethodGet, "/filesystem-find/" + dir, "", true},
		{http.MethodGet, "/filesystem-search/" + dir + "?query=x", "", true},
		{http.MethodGet, "/filesystem-content-search/" + dir + "?query=x", "", true},
		{http.MethodPut, "/filesystem-multipart/nope/part?partNumber=1", "", true},
		{http.MethodPost, "/filesystem-multipart/nope/complete", "", true},
		{http.MethodGet, "/process/nope/logs/stream", "", true},
		{http.MethodPost, "/process", "text/event-stream", true},
		{http.MethodPost, "/mcp", "", true},
		{http.MethodGet, "/health", "", false},
		{http.MethodPost, "/process", "", false},
		{http.MethodGet, "/process", "", false},
		{http.MethodGet, "/filesystem/" + dir, "", false},
		{http.MethodPut, "/filesystem/" + dir + "%2Fsmall.txt", "", false},
		{http.MethodGet, "/filesystem-multipart", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.target+" "+tt.accept, func(t *testing.T) {
			gl, g := newGovernorLog()
			h := New(Options{Processors: g}, Services{Files: fsys, Processes: mgr})
			body := "x"
			if tt.target == "/process" && tt.method == http.MethodPost {
				body = `{"command":"true","waitForCompletion":true}`
			}
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(body))
			if tt.accept != "" {
				req.Header.Set("Accept", tt.accept)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			want := "L" // the governor's start
			if tt.bulk {
				want = "LR"
			}
			if got := gl.String(); got != want {
				t.Errorf("answered %d; governor calls %q, want %q", rec.Code, got, want)
			}
		})
	}
}

// TestTwoRequestsRaiseProcessors: a second request while one is served
// raises the count before its handler runs, and it goes down one linger
// after both ended.
func TestTwoRequestsRaiseProcessors(t *testing.T) {
	gl, g := newGovernorLog()
	entered, release := make(chan struct{}), make(chan struct{})
	var seenBySecond string
	s := newTestServer(t, Options{Processors: g}, func(r chi.Router) {
		r.Get("/hold", func(w http.ResponseWriter, _ *http.Request) {
			close(entered)
			<-release
		})
		r.Get("/second", func(w http.ResponseWriter, _ *http.Request) { seenBySecond = gl.String() })
	})
	held := make(chan struct{})
	go func() {
		defer close(held)
		s.do(httptest.NewRequest(http.MethodGet, "/hold", nil))
	}()
	testsupport.Receive(t, entered, "the first request's handler")
	if got := gl.String(); got != "L" {
		t.Fatalf("with one request: governor calls %q, want %q", got, "L")
	}
	s.do(httptest.NewRequest(http.MethodGet, "/second", nil))
	if seenBySecond != "LR" {
		t.Fatalf("the second request's handler ran after governor calls %q, want %q", seenBySecond, "LR")
	}
	close(release)
	testsupport.Receive(t, held, "the first request to end")
	gl.fireLast()
	if got := gl.String(); got != "LRL" {
		t.Fatalf("once both ended and the linger passed: governor calls %q, want %q", got, "LRL")
	}
}
