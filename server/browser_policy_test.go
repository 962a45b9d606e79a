package server

import (
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/zap"
)

func TestNormalizeOrigin(t *testing.T) {
	tests := []struct{ in, want string }{
		{"https://console.example.com", "https://console.example.com"},
		{" HTTPS://Console.Example.com/ ", "https://console.example.com"},
		{"https://console.example.com:443", "https://console.example.com"},
		{"http://localhost:80", "http://localhost"},
		{"http://localhost:3000", "http://localhost:3000"},
		{"https://console.example.com:80", "https://console.example.com:80"},
		{"http://[::1]:80", "http://[::1]"},
		{"http://[::1]:3000", "http://[::1]:3000"},
		// Refused: not an origin a browser sends.
		{"console.example.com", ""},
		{"ftp://console.example.com", ""},
		{"https://console.example.com/app", ""},
		{"https://user@console.example.com", ""},
		{"https://console.example.com?x=1", ""},
		{"null", ""},
		{"*", ""},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeOrigin(tt.in)
		if tt.want == "" {
			if !errors.Is(err, errBadPolicyEntry) {
				t.Errorf("NormalizeOrigin(%q) = %q, %v; want errBadPolicyEntry", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeOrigin(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestNormalizeAllowedHost(t *testing.T) {
	tests := []struct{ in, want string }{
		{"sbx.example.org", "sbx.example.org"},
		{" SBX.Example.org. ", "sbx.example.org"},
		{"*.Sandboxes.example.net", "*.sandboxes.example.net"},
		{"sandbox", "sandbox"},
		{"", ""},
		{"*", ""},
		{"*.", ""},
		{"a.*.example.net", ""},
		{"sbx.example.org:8080", ""},
		{"https://sbx.example.org", ""},
		{"sbx.example.org/x", ""},
	}
	for _, tt := range tests {
		got, err := NormalizeAllowedHost(tt.in)
		if tt.want == "" {
			if !errors.Is(err, errBadPolicyEntry) {
				t.Errorf("NormalizeAllowedHost(%q) = %q, %v; want errBadPolicyEntry", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("NormalizeAllowedHost(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

// TestForwardedHeadersTrust: X-Forwarded-Host, -Proto and -Prefix count
// only for listed hosts; anything else could come from a page.
func TestForwardedHeadersTrust(t *testing.T) {
	g := newBrowserGuard(BrowserPolicy{AllowedHosts: []string{"sbx.example.org"}}, zap.NewNop())
	tests := []struct {
		name                      string
		host                      string
		tls                       bool
		fwdHost, fwdProto, prefix string
		wantPublic                string
		wantTLS                   bool
		wantPrefix                string
	}{
		{name: "plain", host: "127.0.0.1:8080", wantPublic: "127.0.0.1:8080"},
		{name: "own TLS", host: "127.0.0.1:8080", tls: true, wantPublic: "127.0.0.1:8080", wantTLS: true},
		{name: "listed forwarded host", host: "10.0.0.5:8080", fwdHost: "sbx.example.org", fwdProto: "https", prefix: "/s/1/",
			wantPublic: "sbx.example.org", wantTLS: true, wantPrefix: "/s/1"},
		{name: "first of a chain", host: "10.0.0.5:8080", fwdHost: "sbx.example.org, inner.local", fwdProto: "HTTPS, http",
			wantPublic: "sbx.example.org", wantTLS: true},
		{name: "listed Host itself", host: "sbx.example.org", fwdProto: "https", prefix: "/p", wantPublic: "sbx.example.org", wantTLS: true, wantPrefix: "/p"},
		{name: "unlisted forwarded host", host: "127.0.0.1:8080", fwdHost: "evil.example", fwdProto: "https", prefix: "/p",
			wantPublic: "127.0.0.1:8080"},
		{name: "proto for an unlisted Host", host: "localhost:8080", fwdProto: "https", wantPublic: "localhost:8080"},
		{name: "prefix that is not a path", host: "sbx.example.org", prefix: "evil", wantPublic: "sbx.example.org"},
		{name: "prefix with a cookie attribute", host: "sbx.example.org", prefix: "/a;Domain=x", wantPublic: "sbx.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/terminal", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			} else {
				r.TLS = nil
			}
			for k, v := range map[string]string{"X-Forwarded-Host": tt.fwdHost, "X-Forwarded-Proto": tt.fwdProto, "X-Forwarded-Prefix": tt.prefix} {
				if v != "" {
					r.Header.Set(k, v)
				}
			}
			if got := g.publicHost(r); got != tt.wantPublic {
				t.Errorf("publicHost %q, want %q", got, tt.wantPublic)
			}
			if got := g.overTLS(r); got != tt.wantTLS {
				t.Errorf("overTLS %v, want %v", got, tt.wantTLS)
			}
			if got := g.pathPrefix(r); got != tt.wantPrefix {
				t.Errorf("pathPrefix %q, want %q", got, tt.wantPrefix)
			}
		})
	}
}

func TestFrameAncestors(t *testing.T) {
	g := newBrowserGuard(BrowserPolicy{}, zap.NewNop())
	if got := g.frameAncestors(); got != "frame-ancestors 'self'" {
		t.Errorf("no listed origin: %q", got)
	}
	g = newBrowserGuard(BrowserPolicy{AllowedOrigins: []string{"https://Console.example.com:443", "bad origin"}}, zap.NewNop())
	if got, want := g.frameAncestors(), "frame-ancestors 'self' https://console.example.com"; got != want {
		t.Errorf("%q, want %q", got, want)
	}
}
