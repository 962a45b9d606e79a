package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/terminal"
)

func TestParseFlags(t *testing.T) {
	defaults := config{
		port:               8080,
		shutdownGrace:      10 * time.Second,
		keepalive:          10 * time.Second,
		maxLogProcessBytes: 128 << 20,
		maxLogTotalBytes:   1 << 30,
		maxEndedProcesses:  256,
		uploadTTL:          24 * time.Hour,
		terminalIdle:       30 * time.Minute,
		maxStreams:         1024,
		terminal:           terminalFlags{maxSessions: terminal.DefaultMaxSessions},
		bounds:             defaultBounds,
		textHugePages:      true,
	}
	with := func(change func(*config)) config {
		c := defaults
		change(&c)
		return c
	}

	tests := []struct {
		name string
		args []string
		env  map[string]string
		want config
	}{
		{name: "defaults", want: defaults},
		{name: "long port", args: []string{"--port", "9000"}, want: with(func(c *config) { c.port = 9000 })},
		{name: "short port", args: []string{"-p", "9001"}, want: with(func(c *config) { c.port = 9001 })},
		{name: "short command", args: []string{"-c", "npm start"}, want: with(func(c *config) { c.command = "npm start" })},
		{name: "long command", args: []string{"--command=sleep 1"}, want: with(func(c *config) { c.command = "sleep 1" })},
		{name: "host", args: []string{"--host", "127.0.0.1"}, want: with(func(c *config) { c.host = "127.0.0.1" })},
		{
			name: "durations and limits",
			args: []string{"--shutdown-grace", "3s", "--keepalive", "500ms", "--log-max-process-bytes", "1024", "--log-max-total-bytes", "4096", "--max-ended-processes", "7", "--max-streams", "9"},
			want: with(func(c *config) {
				c.shutdownGrace = 3 * time.Second
				c.keepalive = 500 * time.Millisecond
				c.maxLogProcessBytes = 1024
				c.maxLogTotalBytes = 4096
				c.maxEndedProcesses = 7
				c.maxStreams = 9
			}),
		},
		{name: "zero grace kills at once", args: []string{"--shutdown-grace", "0"}, want: with(func(c *config) { c.shutdownGrace = 0 })},
		{name: "version", args: []string{"--version"}, want: with(func(c *config) { c.showVersion = true })},
		{name: "code kept on the executable's pages", args: []string{"--text-huge-pages=false"}, want: with(func(c *config) { c.textHugePages = false })},
		{name: "mcp disabled by flag", args: []string{"--mcp-disabled"}, want: with(func(c *config) { c.mcpDisabled = true })},
		{name: "mcp disabled by env", env: map[string]string{envMCPDisabled: "true"}, want: with(func(c *config) { c.mcpDisabled = true })},
		{name: "mcp flag beats env", args: []string{"--mcp-disabled=false"}, env: map[string]string{envMCPDisabled: "true"}, want: defaults},
		{name: "terminal disabled by env", env: map[string]string{envDisableTerminal: "true"}, want: with(func(c *config) { c.terminal.disabled = true })},
		{name: "terminal on unless env is true", env: map[string]string{envDisableTerminal: "1"}, want: defaults},
		{
			name: "env defaults",
			env:  map[string]string{envToken: "s3cret\n", envLogDir: "/data/logs"},
			want: with(func(c *config) { c.token = "s3cret"; c.logDir = "/data/logs" }),
		},
		{
			name: "flags beat env",
			args: []string{"--token", "flag-token", "--log-dir", "/flag/logs"},
			env:  map[string]string{envToken: "env-token", envLogDir: "/env/logs"},
			want: with(func(c *config) {
				c.token = "flag-token"
				c.logDir = "/flag/logs"
				c.access.tokenInArgs = true
				c.access.argsChanged = true
				c.access.argsShown = "--log-dir\x00/flag/logs" // the command line without the token
			}),
		},
		{
			name: "explicit empty token disables env token",
			args: []string{"--token="},
			env:  map[string]string{envToken: "env-token"},
			want: defaults,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := func(k string) string { return tt.env[k] }
			got, err := parseFlags(tt.args, getenv, io.Discard)
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if got != tt.want {
				t.Errorf("parseFlags(%q)\n got %+v\nwant %+v", tt.args, got, tt.want)
			}
		})
	}
}

func TestParseFlagsRejects(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{name: "port too big", args: []string{"-p", "70000"}, wantErr: "--port"},
		{name: "negative port", args: []string{"--port=-1"}, wantErr: "--port"},
		{name: "negative grace", args: []string{"--shutdown-grace=-1s"}, wantErr: "--shutdown-grace"},
		{name: "zero keepalive", args: []string{"--keepalive", "0s"}, wantErr: "--keepalive"},
		{name: "zero process log cap", args: []string{"--log-max-process-bytes", "0"}, wantErr: "--log-max-process-bytes"},
		{name: "zero total log cap", args: []string{"--log-max-total-bytes", "0"}, wantErr: "--log-max-total-bytes"},
		{name: "zero ended records", args: []string{"--max-ended-processes", "0"}, wantErr: "--max-ended-processes"},
		{name: "zero streams", args: []string{"--max-streams", "0"}, wantErr: "--max-streams"},
		{name: "stray argument", args: []string{"-c", "npm", "start"}, wantErr: "unexpected arguments"},
		{name: "unknown flag", args: []string{"--nope"}, wantErr: "not defined"},
		{name: "bad duration", args: []string{"--keepalive", "soon"}, wantErr: "invalid value"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseFlags(tt.args, func(string) string { return "" }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("parseFlags(%q) error = %v, want it to mention %q", tt.args, err, tt.wantErr)
			}
		})
	}
}

func TestParseFlagsHelpHidesToken(t *testing.T) {
	var out strings.Builder
	getenv := func(k string) string {
		if k == envToken {
			return "do-not-print-me"
		}
		return ""
	}
	_, err := parseFlags([]string{"--help"}, getenv, &out)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("error = %v, want flag.ErrHelp", err)
	}
	if strings.Contains(out.String(), "do-not-print-me") {
		t.Errorf("help output leaks the token:\n%s", out.String())
	}
	for _, name := range []string{"-port", "-p", "-command", "-c", "-log-dir", "-token", "-keepalive", "-version"} {
		if !strings.Contains(out.String(), name+" ") && !strings.Contains(out.String(), name+"\n") {
			t.Errorf("help output does not list %s:\n%s", name, out.String())
		}
	}
}

func TestParseFlagsRejectsBadMCPDisabled(t *testing.T) {
	getenv := func(k string) string {
		if k == envMCPDisabled {
			return "maybe"
		}
		return ""
	}
	if _, err := parseFlags(nil, getenv, io.Discard); err == nil || !strings.Contains(err.Error(), envMCPDisabled) {
		t.Fatalf("MCP_DISABLED=maybe: error = %v, want one naming %s", err, envMCPDisabled)
	}
}
