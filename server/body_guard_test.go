package server

import (
	"bufio"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// guardHangGuard bounds each wait for something that must happen (the
// tests' one policy, testsupport.HangGuard).
const guardHangGuard = testsupport.HangGuard

func TestGuardBody(t *testing.T) {
	const idle = 300 * time.Millisecond
	readAll := func(w http.ResponseWriter, r *http.Request) {
		data, err := io.ReadAll(r.Body)
		switch {
		case bodyStalled(err):
			writeError(w, http.StatusRequestTimeout, err.Error())
		case err != nil:
			writeError(w, http.StatusBadRequest, err.Error())
		default:
			writeJSON(w, http.StatusOK, map[string]string{"body": string(data)})
		}
	}
	refuse := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusUnauthorized, "no")
	}
	tests := []struct {
		name    string
		handler http.HandlerFunc
		send    string // one request, maybe with part of its body
		want    int
		closed  bool   // the connection must be closed after the answer
		then    string // a second request on the same connection (when not closed)
	}{
		{
			name: "refused before a body that never comes", handler: refuse,
			send: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
			want: http.StatusUnauthorized, closed: true,
		},
		{
			name: "refused with a chunked body that never comes", handler: refuse,
			send: "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
			want: http.StatusUnauthorized, closed: true,
		},
		{
			name: "a body that stops", handler: readAll,
			send: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nab",
			want: http.StatusRequestTimeout, closed: true,
		},
		{
			name: "a body read whole keeps the connection", handler: readAll,
			send: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
			want: http.StatusOK,
			then: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		},
		{
			name: "refused with its body: read, then closed", handler: refuse,
			send: "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nab",
			want: http.StatusUnauthorized, closed: true,
		},
		{
			name:    "a handler that writes nothing before a body that never comes",
			handler: func(w http.ResponseWriter, r *http.Request) {},
			send:    "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n",
			want:    http.StatusOK, closed: true,
		},
		{
			name: "a request without a body keeps the connection", handler: refuse,
			send: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			want: http.StatusUnauthorized,
			then: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(guardBody(idle)(tt.handler))
			defer srv.Close()
			c, err := net.Dial("tcp", srv.Listener.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			_ = c.SetReadDeadline(time.Now().Add(guardHangGuard))
			br := bufio.NewReader(c)
			if _, err := io.WriteString(c, tt.send); err != nil {
				t.Fatal(err)
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no answer: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if resp.Close != tt.closed {
				t.Errorf("Connection: close is %v, want %v", resp.Close, tt.closed)
			}
			if tt.closed {
				extra, err := io.ReadAll(br)
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() || err != nil && !errors.Is(err, syscall.ECONNRESET) || len(extra) > 0 {
					t.Fatalf("after the answer: %q, %v; want the connection closed", extra, err)
				}
				return
			}
			if _, err := io.WriteString(c, tt.then); err != nil {
				t.Fatal(err)
			}
			resp, err = http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("second request on the connection: %v", err)
			}
			resp.Body.Close()
		})
	}
}

// A body the handler reads through other readers (a size cap, a JSON
// decoder, or read whole for a decoder of its own) is still bounded, and
// the error says why.
func TestGuardBodyStallMessage(t *testing.T) {
	for _, tc := range []struct {
		name   string
		decode func(w http.ResponseWriter, r *http.Request)
	}{
		{"streamed to encoding/json", func(w http.ResponseWriter, r *http.Request) {
			var v map[string]any
			decodeJSON(w, r, maxJSONBody, &v, false)
		}},
		{"read whole (processRequest)", func(w http.ResponseWriter, r *http.Request) {
			var v processRequest
			decodeJSON(w, r, maxJSONBody, &v, false)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(guardBody(200 * time.Millisecond)(http.HandlerFunc(tc.decode)))
			defer srv.Close()
			pr, pw := io.Pipe()
			defer pw.Close()
			go func() { _, _ = io.WriteString(pw, `{"a":`) }() // then nothing
			req, _ := http.NewRequest(http.MethodPost, srv.URL, pr)
			req.ContentLength = 100
			client := &http.Client{Timeout: guardHangGuard}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != http.StatusRequestTimeout || !strings.Contains(string(body), "nothing received for 200ms") {
				t.Fatalf("status %d body %s, want 408 saying how long nothing came", resp.StatusCode, body)
			}
		})
	}
}
