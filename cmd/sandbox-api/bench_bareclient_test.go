package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"
)

// bareClient is the leanest HTTP/1.1 client of a latency benchmark: one
// kept-alive connection, on which the calling goroutine writes each request
// and reads its answer itself (net/http's parser, no goroutine of its own).
// Go's http.Client hands every request to a writing goroutine and every
// answer back from a reading one; on the 2-core VM those hand-offs between
// threads cost an exec-and-wait 115–150 µs more, the same for any server
// (docs/measured.md), which is the client's time and not the daemon's. A
// curl or a Node client pays its own; this one pays the least.
type bareClient struct {
	conn net.Conn
	br   *bufio.Reader
	host string
}

// dialBare connects to addr (host:port). The connection has one deadline,
// the benchmark's hang guard, set once: a deadline per request would arm a
// timer in this process on the way of every round trip.
func dialBare(tb testing.TB, addr string) *bareClient {
	tb.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		tb.Fatalf("dial %s: %v", addr, err)
	}
	tb.Cleanup(func() { conn.Close() })
	if err := conn.SetDeadline(time.Now().Add(benchConnGuard)); err != nil {
		tb.Fatal(err)
	}
	return &bareClient{conn: conn, br: bufio.NewReader(conn), host: addr}
}

// benchConnGuard bounds a bare client's whole connection: far longer than
// any benchmark run, so only a hang meets it.
const benchConnGuard = 30 * time.Minute

// bareRequest is the raw bytes of one request, made once and sent as often
// as a benchmark asks.
func (c *bareClient) bareRequest(method, path, contentType string, body []byte) []byte {
	var sb strings.Builder
	fmt.Fprintf(&sb, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, c.host)
	if body != nil {
		fmt.Fprintf(&sb, "Content-Type: %s\r\nContent-Length: %s\r\n", contentType, strconv.Itoa(len(body)))
	}
	sb.WriteString("\r\n")
	return append([]byte(sb.String()), body...)
}

// roundTrip sends req and reads the whole answer.
func (c *bareClient) roundTrip(req []byte) (status int, body []byte, err error) {
	if _, err := c.conn.Write(req); err != nil {
		return 0, nil, fmt.Errorf("write request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		return 0, nil, fmt.Errorf("read answer: %w", err)
	}
	body, err = io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		return resp.StatusCode, nil, fmt.Errorf("read answer's body: %w", err)
	}
	if resp.Close {
		return resp.StatusCode, body, fmt.Errorf("the server closed the connection")
	}
	return resp.StatusCode, body, nil
}
