package server

import (
	"bufio"
	"context"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// wireAnswer is what a client can see of an answer: everything but Date.
type wireAnswer struct {
	status           int
	header           http.Header
	contentLength    int64
	transferEncoding []string
	trailer          http.Header
	body             string
}

// rawExchange sends one request on a fresh connection and reads the answer
// as a client does.
func rawExchange(t *testing.T, url, method, path string) wireAnswer {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(testsupport.HangGuard))
	if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest(method, url+path, nil)
	resp, err := http.ReadResponse(bufio.NewReader(c), req)
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	resp.Header.Del("Date")
	return wireAnswer{resp.StatusCode, resp.Header, resp.ContentLength, resp.TransferEncoding, resp.Trailer, string(body)}
}

// TestHeldAnswerSendsWhatNetHTTPSends compares each answer with the access
// log (which holds small answers) to the same handler served bare.
func TestHeldAnswerSendsWhatNetHTTPSends(t *testing.T) {
	big := strings.Repeat("x", heldAnswerMax+1)
	tests := []struct {
		name    string
		method  string
		handler http.HandlerFunc
	}{
		{"nothing written", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {}},
		{"small JSON", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusCreated, map[string]string{"a": "b"})
		}},
		{"body sniffed", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "<html><body>hi</body></html>")
		}},
		{"exactly the buffer", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, big[:heldAnswerMax])
		}},
		{"over the buffer, in two writes", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "start ")
			_, _ = io.WriteString(w, big)
		}},
		{"flushed", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "first ")
			_ = http.NewResponseController(w).Flush()
			_, _ = io.WriteString(w, "second")
		}},
		{"header changed after WriteHeader", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Before", "1")
			w.WriteHeader(http.StatusAccepted)
			w.Header().Set("X-After", "1")
			_, _ = io.WriteString(w, "ok")
		}},
		{"own Content-Length", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "5")
			_, _ = io.WriteString(w, "hello")
		}},
		{"no content", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNoContent)
		}},
		{"not modified", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusNotModified)
		}},
		{"trailer declared", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum")
			_, _ = io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
		}},
		{"HEAD with a body", http.MethodHead, func(w http.ResponseWriter, r *http.Request) {
			_, _ = io.WriteString(w, "twelve bytes")
		}},
		{"HEAD without a body", http.MethodHead, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
		}},
		{"second WriteHeader ignored", http.MethodGet, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusTeapot)
			w.WriteHeader(http.StatusOK)
			_, _ = io.WriteString(w, "tea")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			quiet := log.New(io.Discard, "", 0) // net/http's complaint of a second WriteHeader
			bare := httptest.NewUnstartedServer(tt.handler)
			bare.Config.ErrorLog = quiet
			bare.Start()
			defer bare.Close()
			held := httptest.NewUnstartedServer(accessLog(zap.NewNop())(tt.handler))
			held.Config.ErrorLog = quiet
			held.Start()
			defer held.Close()
			want := rawExchange(t, bare.URL, tt.method, "/")
			got := rawExchange(t, held.URL, tt.method, "/")
			// The access log tags every answer with its id (tagRequest).
			if got.header.Get("X-Request-Id") == "" {
				t.Errorf("no X-Request-Id on the held answer: %v", got.header)
			}
			got.header.Del("X-Request-Id")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("held answer differs\n got %+v\nwant %+v", got, want)
			}
		})
	}
}

// blockingCore is a zap core whose writes wait until released.
type blockingCore struct {
	zapcore.LevelEnabler
	release <-chan struct{}
}

func (c blockingCore) With([]zapcore.Field) zapcore.Core { return c }
func (c blockingCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	return ce.AddCore(e, c)
}
func (c blockingCore) Write(zapcore.Entry, []zapcore.Field) error { <-c.release; return nil }
func (c blockingCore) Sync() error                                { return nil }

// TestSmallAnswerReachesClientBeforeAccessLine stalls the access log until
// the client has read the whole answer: an answer sent only after the
// line would never arrive.
func TestSmallAnswerReachesClientBeforeAccessLine(t *testing.T) {
	release := make(chan struct{})
	logger := zap.New(blockingCore{LevelEnabler: zapcore.InfoLevel, release: release})
	srv := httptest.NewServer(accessLog(logger)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	})))
	defer srv.Close() // waits for the handler: after release
	var once sync.Once
	free := func() { once.Do(func() { close(release) }) }
	defer free()
	ctx, cancel := context.WithTimeout(context.Background(), testsupport.HangGuard)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatalf("answer not received while its access line is pending: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || string(body) != "{\"status\":\"ok\"}\n" {
		t.Fatalf("body %q, %v", body, err)
	}
	free()
}
