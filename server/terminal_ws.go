package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/terminal"
)

const (
	// wsReadLimit bounds one message from the client (a big paste fits).
	wsReadLimit = 1 << 20
	// wsWriteTimeout cuts a client whose socket stopped draining.
	wsWriteTimeout = 10 * time.Second
	// maxTermSide bounds cols and rows to sane terminal sizes.
	maxTermSide = 1000
)

// wsMessage is the JSON message format of both directions.
type wsMessage struct {
	Type string `json:"type"`
	Data string `json:"data,omitempty"`
	Cols int    `json:"cols,omitempty"`
	Rows int    `json:"rows,omitempty"`
}

// websocket attaches a websocket to a terminal session, starting the session
// if needed.
func (h *terminalHandlers) websocket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cols, err := termSide(q.Get("cols"), "cols")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rows, err := termSide(q.Get("rows"), "rows")
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	// A request that is no WebSocket handshake gets a JSON error (Accept
	// would answer in text/plain), before any shell is started for it.
	if status, msg := checkWebSocketHandshake(r); status != 0 {
		if status == http.StatusUpgradeRequired {
			w.Header().Set("Connection", "Upgrade")
			w.Header().Set("Upgrade", "websocket")
		}
		writeError(w, status, msg)
		return
	}
	// Attach before the upgrade, so that bad options get a JSON error.
	sess, client, err := h.terms.Attach(terminal.Options{
		ID: q.Get("sessionId"), Shell: q.Get("shell"), WorkingDir: q.Get("workingDir"),
		Cols: cols, Rows: rows,
	})
	if err != nil {
		if errors.Is(err, terminal.ErrTooManySessions) {
			err = fmt.Errorf("%w: close one (DELETE /terminal/sessions/{id}) or raise --terminal-max-sessions", err)
		}
		terminalRoutes.writeFailure(w, err)
		return
	}
	defer client.Detach()
	// The Origin was checked before any handler ran, against the daemon's
	// own origin as a proxy may forward it and --allowed-origins, which
	// Accept's own check does not know: guardBrowsers without a token,
	// requireToken for the terminal cookie. With a bearer header, no page
	// sent it.
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the client
	}
	defer conn.CloseNow()
	conn.SetReadLimit(wsReadLimit)

	// ctx is the socket's own life: it ends when the client goes or stops
	// answering pings. The daemon ending the request (r's context: a
	// switch to a new binary, a shutdown) is told to the client with a
	// close frame (closeCut), which a read or write under an ended
	// context would prevent: the library then drops the connection.
	ctx, cancel := context.WithCancel(context.WithoutCancel(r.Context()))
	defer cancel()
	go h.readInput(ctx, cancel, conn, sess)
	if h.opts.KeepaliveInterval > 0 {
		go keepAlive(ctx, cancel, conn, h.opts.KeepaliveInterval)
	}

	binary := q.Get("mode") == "binary"
	var carry []byte
	for {
		select {
		case <-r.Context().Done():
			h.closeCut(conn)
			return
		case <-ctx.Done():
			return
		case p, ok := <-client.Output():
			if !ok {
				h.closeEnded(conn, sess, client)
				return
			}
			if err := writeOutput(ctx, conn, binary, &carry, p); err != nil {
				return
			}
		}
	}
}

// keepAlive pings the client so that idle terminals survive proxies, and
// gives up on a client that stopped answering.
func keepAlive(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			pctx, pcancel := context.WithTimeout(ctx, wsWriteTimeout)
			err := conn.Ping(pctx)
			pcancel()
			if err != nil {
				cancel()
				return
			}
		}
	}
}

// closeEnded sends the close frame that tells why the output stopped.
func (h *terminalHandlers) closeEnded(conn *websocket.Conn, sess *terminal.Session, client *terminal.Client) {
	select {
	case <-sess.Done():
		_ = conn.Close(websocket.StatusNormalClosure, "shell exited")
	default:
		switch {
		case client.Dropped():
			_ = conn.Close(websocket.StatusPolicyViolation, "client too slow; reconnect to resume")
		case client.HandedOver():
			// 1012 Service Restart: the session goes on in the daemon's
			// next image, which serves the reattach and its replay.
			_ = conn.Close(websocket.StatusServiceRestart, "daemon restarting; reconnect to resume")
		}
	}
}

// closeCut tells the client why the daemon ends its socket: 1012 (Service
// Restart) when the daemon switches to a new binary, whose image serves
// the reattach and its replay (the session goes on); 1001 (Going Away)
// when it shuts down.
func (h *terminalHandlers) closeCut(conn *websocket.Conn) {
	if ends := h.opts.StreamsEnd; ends != nil && errors.Is(context.Cause(ends), ErrHandedOver) {
		_ = conn.Close(websocket.StatusServiceRestart, "daemon restarting; reconnect to resume")
		return
	}
	_ = conn.Close(websocket.StatusGoingAway, "daemon shutting down")
}

// readInput forwards the client's keystrokes and resizes until it goes.
func (h *terminalHandlers) readInput(ctx context.Context, cancel context.CancelFunc, conn *websocket.Conn, sess *terminal.Session) {
	defer cancel()
	for {
		typ, data, err := conn.Read(ctx)
		if err != nil {
			return
		}
		if typ == websocket.MessageBinary {
			if sess.Write(ctx, data) != nil {
				return
			}
			continue
		}
		var msg wsMessage
		if err := json.Unmarshal(data, &msg); err != nil {
			h.opts.Logger.Debug("bad terminal message", zap.Error(err))
			continue // one bad message does not end the session
		}
		switch msg.Type {
		case "input":
			if sess.Write(ctx, []byte(msg.Data)) != nil {
				return
			}
		case "resize":
			if msg.Cols > 0 && msg.Rows > 0 && msg.Cols <= maxTermSide && msg.Rows <= maxTermSide {
				_ = sess.Resize(uint16(msg.Cols), uint16(msg.Rows))
			}
		}
	}
}

// writeOutput sends one output chunk. JSON strings must be valid UTF-8, so a
// character split between two chunks is carried over to the next one.
func writeOutput(ctx context.Context, conn *websocket.Conn, binary bool, carry *[]byte, p []byte) error {
	ctx, cancel := context.WithTimeout(ctx, wsWriteTimeout)
	defer cancel()
	if binary {
		return conn.Write(ctx, websocket.MessageBinary, p)
	}
	buf := append(*carry, p...)
	cut := completeUTF8(buf)
	*carry = append([]byte(nil), buf[cut:]...)
	if cut == 0 {
		return nil
	}
	body, err := encodeJSON(wsMessage{Type: "output", Data: string(buf[:cut])})
	if err != nil {
		return fmt.Errorf("encode terminal output: %w", err)
	}
	return conn.Write(ctx, websocket.MessageText, body)
}

// completeUTF8 returns the length of b without a trailing incomplete UTF-8
// sequence (invalid bytes elsewhere are left for the encoder to replace).
func completeUTF8(b []byte) int {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if !utf8.RuneStart(b[i]) {
			continue
		}
		if !utf8.FullRune(b[i:]) {
			return i
		}
		break
	}
	return len(b)
}

// termSide parses cols or rows; empty means the default.
func termSide(s, name string) (uint16, error) {
	if s == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxTermSide {
		return 0, fmt.Errorf("%s must be an integer between 1 and %d", name, maxTermSide)
	}
	return uint16(n), nil
}

// checkWebSocketHandshake checks what websocket.Accept needs of a
// handshake, so that a plain HTTP request is refused in JSON. It returns 0
// for a handshake.
func checkWebSocketHandshake(r *http.Request) (int, string) {
	// A HEAD (a probe) is no handshake either, whatever its headers: it must
	// never start a shell.
	if r.Method != http.MethodGet || !headerHasToken(r.Header, "Connection", "upgrade") || !headerHasToken(r.Header, "Upgrade", "websocket") {
		return http.StatusUpgradeRequired, "this route is a WebSocket: send Connection: Upgrade and Upgrade: websocket"
	}
	if r.Header.Get("Sec-WebSocket-Version") != "13" {
		return http.StatusBadRequest, "unsupported WebSocket version: send Sec-WebSocket-Version: 13"
	}
	if r.Header.Get("Sec-WebSocket-Key") == "" {
		return http.StatusBadRequest, "missing Sec-WebSocket-Key"
	}
	return 0, ""
}

// headerHasToken reports whether a comma-separated header lists token
// (case-insensitive).
func headerHasToken(h http.Header, name, token string) bool {
	for _, v := range h.Values(name) {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), token) {
				return true
			}
		}
	}
	return false
}
