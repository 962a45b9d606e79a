package server

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"
	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
	"github.com/sandbox-api/sandbox-api/terminal"
)

// readOutputUntil reads the socket's output messages until they contain
// want, and returns the error that ended the socket if it ends first.
func readOutputUntil(ctx context.Context, conn *websocket.Conn, want string) (string, error) {
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		_, data, err := conn.Read(ctx)
		if err != nil {
			return got.String(), err
		}
		var msg wsMessage
		if json.Unmarshal(data, &msg) == nil && msg.Type == "output" {
			got.WriteString(msg.Data)
		}
	}
	return got.String(), nil
}

// A terminal socket open when the sessions are handed over to the next
// image is closed with 1012 (Service Restart), cleanly, before Freeze
// returns; reconnecting to the same session replays it.
func TestTerminalSocketClosedForHandover(t *testing.T) {
	t.Setenv("SHELL", "/bin/sh")
	terms := terminal.NewManager(terminal.Config{})
	t.Cleanup(terms.Close)
	srv := httptest.NewServer(newHandler(Options{Logger: zap.NewNop()}, Services{Terminals: terms}, nil))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), testsupport.HangGuard)
	defer cancel()
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/terminal/ws?sessionId=h"

	conn, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"input","data":"echo mark-$((40+2))\n"}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := readOutputUntil(ctx, conn, "mark-42"); err != nil {
		t.Fatal(err)
	}

	frozen := make(chan error, 1)
	go func() {
		_, err := terms.Freeze(context.Background()) // returns once the socket is closed
		frozen <- err
	}()
	_, err = readOutputUntil(ctx, conn, "never")
	if status := websocket.CloseStatus(err); status != websocket.StatusServiceRestart {
		t.Fatalf("socket ended with %v, want close status 1012", err)
	}
	if err := testsupport.Receive(t, frozen, "Freeze to return once the socket closed"); err != nil {
		t.Fatal(err)
	}
	if _, resp, err := websocket.Dial(ctx, url, nil); err == nil || resp == nil || resp.StatusCode != 503 {
		t.Fatalf("attaching while the sessions are frozen: %v, want a 503", err)
	}

	if err := terms.Thaw(); err != nil {
		t.Fatal(err)
	}
	again, _, err := websocket.Dial(ctx, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.CloseNow()
	if _, err := readOutputUntil(ctx, again, "mark-42"); err != nil {
		t.Fatalf("no replay after reconnecting: %v", err)
	}
}
