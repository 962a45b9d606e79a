package main

import (
	"io"
	"slices"
	"strings"
	"testing"
)

func TestBrowserFlags(t *testing.T) {
	tests := []struct {
		name                   string
		args                   []string
		wantOrigins, wantHosts []string
		wantErr                string
	}{
		{name: "none"},
		{
			name:        "lists, repeated, normalized",
			args:        []string{"--allowed-origins", "https://Console.example.com:443, http://localhost:3000", "--allowed-origins=https://b.example", "--allowed-hosts", "SBX.example.org,*.sandboxes.example.net"},
			wantOrigins: []string{"https://console.example.com", "http://localhost:3000", "https://b.example"},
			wantHosts:   []string{"sbx.example.org", "*.sandboxes.example.net"},
		},
		{name: "empty entries are skipped", args: []string{"--allowed-hosts", ",a.example,,"}, wantHosts: []string{"a.example"}},
		{name: "origin without scheme", args: []string{"--allowed-origins", "console.example.com"}, wantErr: "allowed-origins"},
		{name: "origin with a path", args: []string{"--allowed-origins", "https://a.example/app"}, wantErr: "allowed-origins"},
		{name: "host with a port", args: []string{"--allowed-hosts", "sbx.example.org:8080"}, wantErr: "allowed-hosts"},
		{name: "host wildcard alone", args: []string{"--allowed-hosts", "*"}, wantErr: "allowed-hosts"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := parseFlags(tt.args, func(string) string { return "" }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want one naming %s", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p := c.browser.policy()
			if !slices.Equal(p.AllowedOrigins, tt.wantOrigins) || !slices.Equal(p.AllowedHosts, tt.wantHosts) {
				t.Errorf("policy %+v, want origins %q, hosts %q", p, tt.wantOrigins, tt.wantHosts)
			}
		})
	}
}
