package main

import (
	"io"
	"testing"
)

func TestTerminalFlags(t *testing.T) {
	noEnv := func(string) string { return "" }
	c, err := parseFlags([]string{"--terminal-max-sessions", "5"}, noEnv, io.Discard)
	if err != nil || c.terminal.maxSessions != 5 {
		t.Fatalf("--terminal-max-sessions 5: %d, %v", c.terminal.maxSessions, err)
	}
	for _, bad := range []string{"0", "-1", "x", ""} {
		if _, err := parseFlags([]string{"--terminal-max-sessions=" + bad}, noEnv, io.Discard); err == nil {
			t.Errorf("--terminal-max-sessions=%q accepted", bad)
		}
	}
}
