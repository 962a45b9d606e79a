package main

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/connlimit"
	"github.com/sandbox-api/sandbox-api/server"
)

func TestConnsFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    connsConfig
		wantErr string
	}{
		{name: "defaults", want: connsConfig{}},
		{
			name: "all set",
			args: []string{"--max-connections", "64", "--header-timeout", "3s", "--body-idle-timeout=2m"},
			want: connsConfig{maxConns: 64, headerTimeout: 3 * time.Second, bodyIdle: 2 * time.Minute},
		},
		{name: "zero is the default", args: []string{"--max-connections=0", "--body-idle-timeout=0"}, want: connsConfig{}},
		{name: "negative bound", args: []string{"--max-connections=-1"}, wantErr: "must not be negative"},
		{name: "bound not a number", args: []string{"--max-connections", "many"}, wantErr: "not an integer"},
		{name: "negative header timeout", args: []string{"--header-timeout=-1s"}, wantErr: "must not be negative"},
		{name: "negative body timeout", args: []string{"--body-idle-timeout=-1s"}, wantErr: "must not be negative"},
		{name: "body timeout not a duration", args: []string{"--body-idle-timeout", "60"}, wantErr: "not a duration"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseFlags(tt.args, func(string) string { return "" }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseFlags(%q) error = %v, want it to say %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseFlags(%q): %v", tt.args, err)
			}
			if got.conns != tt.want {
				t.Errorf("parseFlags(%q).conns = %+v, want %+v", tt.args, got.conns, tt.want)
			}
		})
	}
}

func TestConnsDefaults(t *testing.T) {
	tests := []struct {
		name        string
		c           connsConfig
		fdLimit     uint64
		wantMax     int
		wantHeaders time.Duration
	}{
		{name: "unknown fd limit", fdLimit: 0, wantMax: connlimit.DefaultMax, wantHeaders: server.DefaultHeaderTimeout},
		{name: "large fd limit", fdLimit: 1 << 20, wantMax: connlimit.DefaultMax, wantHeaders: server.DefaultHeaderTimeout},
		{name: "small fd limit", fdLimit: 1024, wantMax: 512, wantHeaders: server.DefaultHeaderTimeout},
		{name: "set", c: connsConfig{maxConns: 10, headerTimeout: time.Second}, fdLimit: 1024, wantMax: 10, wantHeaders: time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.maxConnections(tt.fdLimit); got != tt.wantMax {
				t.Errorf("maxConnections(%d) = %d, want %d", tt.fdLimit, got, tt.wantMax)
			}
			if got := tt.c.headerTimeoutOrDefault(); got != tt.wantHeaders {
				t.Errorf("headerTimeoutOrDefault() = %s, want %s", got, tt.wantHeaders)
			}
		})
	}
}

func TestConnsFlagsInHelp(t *testing.T) {
	var out strings.Builder
	_, _ = parseFlags([]string{"--help"}, func(string) string { return "" }, &out)
	for _, want := range []string{"-max-connections", "-header-timeout", "-body-idle-timeout", "0: 4096", "0: 10s", "0: 1m0s"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("help output lacks %q:\n%s", want, out.String())
		}
	}
}
