package main

// Black-box: a request the daemon refuses before reading its body (no
// credentials, unknown route, wrong method, unknown body type, too large)
// is answered at once, and its connection closed, even when the body never
// comes. net/http would otherwise wait for the body before sending the
// answer, with nothing to bound the wait.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// rawConn is a client connection driven byte by byte.
type rawConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

// dialRaw connects to d; t is the (sub)test that uses the connection.
func (d *daemon) dialRaw(t testing.TB) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", d.port))
	if err != nil {
		t.Fatalf("dial the daemon: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return &rawConn{t: t, conn: c, br: bufio.NewReader(c)}
}

// send writes s as is.
func (rc *rawConn) send(s string) {
	rc.t.Helper()
	if _, err := io.WriteString(rc.conn, s); err != nil {
		rc.t.Fatalf("send %q: %v", s, err)
	}
}

// answer reads one response and its body, under hangGuard.
func (rc *rawConn) answer() (*http.Response, []byte) {
	rc.t.Helper()
	_ = rc.conn.SetReadDeadline(time.Now().Add(hangGuard))
	resp, err := http.ReadResponse(rc.br, nil)
	if err != nil {
		rc.t.Fatalf("no answer within %s: %v", hangGuard, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatalf("read the answer's body: %v", err)
	}
	return resp, body
}

// waitClosed waits, under hangGuard, for the daemon to close the
// connection (end of file, or a reset when it left bytes unread) without
// sending anything more.
func (rc *rawConn) waitClosed() {
	rc.t.Helper()
	if extra := rc.waitClosedAfterAny(); len(extra) > 0 {
		rc.t.Fatalf("unexpected bytes before the close: %q", extra)
	}
}

// waitClosedAfterAny is waitClosed that accepts bytes before the close,
// and returns them.
func (rc *rawConn) waitClosedAfterAny() []byte {
	rc.t.Helper()
	_ = rc.conn.SetReadDeadline(time.Now().Add(hangGuard))
	extra, err := io.ReadAll(rc.br)
	var ne net.Error
	switch {
	case errors.As(err, &ne) && ne.Timeout():
		rc.t.Fatalf("connection still open after %s", hangGuard)
	case err != nil && !errors.Is(err, syscall.ECONNRESET):
		rc.t.Fatalf("waiting for the close: %v", err)
	}
	return extra
}

const connTestToken = "conn-test-token"

func TestRefusedRequestAnsweredWithoutItsBody(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--token", connTestToken}})
	auth := "Authorization: Bearer " + connTestToken + "\r\n"
	file := filesEnc("/filesystem/", d.workDir+"/refused")
	tests := []struct {
		name string
		head string // request line and headers, without the blank line
		want int
	}{
		{"no credentials", "POST /process HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\n", http.StatusUnauthorized},
		{"no credentials, chunked", "POST /process HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n", http.StatusUnauthorized},
		{"no credentials, 100 kB announced", "PUT " + file + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\nContent-Length: 100000\r\n", http.StatusUnauthorized},
		{"wrong token", "POST /process HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nContent-Length: 1\r\n", http.StatusUnauthorized},
		{"unknown route", "POST /no-such-route HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 1\r\n", http.StatusNotFound},
		{"wrong method", "PATCH /process HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Length: 1\r\n", http.StatusMethodNotAllowed},
		{"unknown body type", "PUT " + file + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: text/x-nope\r\nContent-Length: 1\r\n", http.StatusUnsupportedMediaType},
		{"too large", "PUT " + file + " HTTP/1.1\r\nHost: x\r\n" + auth + "Content-Type: application/octet-stream\r\nContent-Length: 99999999999999\r\n", http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc := d.dialRaw(t)
			rc.send(tt.head + "\r\n") // and never the body
			resp, body := rc.answer()
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tt.want, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q, want JSON", ct)
			}
			if !resp.Close {
				t.Errorf("answer without Connection: close")
			}
			rc.waitClosed()
		})
	}
	// The daemon still serves, and nothing was written.
	d.doJSON(http.MethodGet, "/health", nil, http.StatusOK, nil)
}

// A client still sending the body of a refused request reads the answer,
// not a reset: what is left of a body that keeps coming is read for a
// moment before the connection is closed.
func TestRefusedRequestWithAFlowingBody(t *testing.T) {
	d := startDaemon(t, daemonOptions{args: []string{"--token", connTestToken}})
	for _, size := range []int{200 << 10, 4 << 20} { // under and over net/http's 256 KiB drain
		t.Run(strconv.Itoa(size), func(t *testing.T) {
			rc := d.dialRaw(t)
			rc.send("POST /process HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: " + strconv.Itoa(size) + "\r\n\r\n")
			go func() { // fails once the daemon closes the connection
				_, _ = rc.conn.Write([]byte(strings.Repeat("x", size)))
			}()
			resp, body := rc.answer()
			if resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("status %d, want 401; body %s", resp.StatusCode, body)
			}
			if !resp.Close {
				t.Errorf("answer without Connection: close")
			}
			rc.waitClosedAfterAny()
		})
	}
}
