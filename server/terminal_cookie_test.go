package server

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/zap"
)

// TestTerminalCookieScope: the cookie goes to /terminal only (under a
// listed proxy's prefix), expires after TerminalCookieLifetime, and is
// Secure only over TLS the daemon can believe.
func TestTerminalCookieScope(t *testing.T) {
	s := terminalAuthServer(t) // lists sbx.example.org
	tests := []struct {
		name                    string
		host, fwdHost, fwdProto string
		prefix                  string
		wantPath                string
		wantSecure              bool
	}{
		{name: "direct", host: "127.0.0.1:8080", wantPath: "/terminal"},
		{name: "listed proxy over https with a prefix", host: "10.0.0.5:8080", fwdHost: "sbx.example.org", fwdProto: "https", prefix: "/sbx/42",
			wantPath: "/sbx/42/terminal", wantSecure: true},
		{name: "unlisted forwarded headers are ignored", host: "127.0.0.1:8080", fwdHost: "evil.example", fwdProto: "https", prefix: "/x",
			wantPath: "/terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/terminal?token=secret", nil)
			req.Host = tt.host
			for k, v := range map[string]string{"X-Forwarded-Host": tt.fwdHost, "X-Forwarded-Proto": tt.fwdProto, "X-Forwarded-Prefix": tt.prefix} {
				if v != "" {
					req.Header.Set(k, v)
				}
			}
			before := time.Now()
			rec := s.do(req)
			if rec.Code != http.StatusSeeOther {
				t.Fatalf("status %d (%s)", rec.Code, rec.Body.String())
			}
			raw := rec.Header().Get("Set-Cookie")
			cs := rec.Result().Cookies()
			if len(cs) != 1 {
				t.Fatalf("cookies %q, want one", raw)
			}
			c := cs[0]
			if c.Path != tt.wantPath || c.Secure != tt.wantSecure {
				t.Errorf("Set-Cookie %q: want Path=%s, Secure=%v", raw, tt.wantPath, tt.wantSecure)
			}
			if want := int(TerminalCookieLifetime / time.Second); c.MaxAge != want {
				t.Errorf("Set-Cookie %q: Max-Age %d, want %d", raw, c.MaxAge, want)
			}
			if c.Expires.Before(before.Add(TerminalCookieLifetime).Add(-time.Second)) || c.Expires.After(time.Now().Add(TerminalCookieLifetime).Add(time.Second)) {
				t.Errorf("Set-Cookie %q: Expires %v, want about now + %s", raw, c.Expires, TerminalCookieLifetime)
			}
		})
	}
}

// TestTerminalCookieExpiry: the daemon checks the expiry it signed, so a
// cookie kept past it (or with a changed expiry) opens nothing.
func TestTerminalCookieExpiry(t *testing.T) {
	s := terminalAuthServer(t)
	now := time.Now()
	fresh := terminalCookieValue("secret", now.Add(time.Minute))
	exp, mac, _ := strings.Cut(fresh, ".")
	n, _ := strconv.ParseInt(exp, 10, 64)
	tests := []struct {
		name, cookie string
		want         int
	}{
		{"fresh", fresh, http.StatusOK},
		{"expired", terminalCookieValue("secret", now.Add(-time.Second)), http.StatusUnauthorized},
		{"expiry pushed back", strconv.FormatInt(n+3600, 10) + "." + mac, http.StatusUnauthorized},
		{"no expiry", mac, http.StatusUnauthorized},
		{"not a number", "soon." + mac, http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, "/terminal/sessions", nil)
			req.AddCookie(&http.Cookie{Name: terminalCookieName, Value: tt.cookie})
			if rec := s.do(req); rec.Code != tt.want {
				t.Errorf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body.String())
			}
		})
	}
}

// TestTerminalPageFrameAncestors: only the page's own origin and listed
// origins may frame the terminal.
func TestTerminalPageFrameAncestors(t *testing.T) {
	h := &terminalHandlers{browsers: newBrowserGuard(BrowserPolicy{AllowedOrigins: []string{"https://console.example.com"}}, zap.NewNop())}
	rec := httptest.NewRecorder()
	h.page(rec, httptest.NewRequest(http.MethodGet, "/terminal", nil))
	if got, want := rec.Header().Get("Content-Security-Policy"), "frame-ancestors 'self' https://console.example.com"; got != want {
		t.Errorf("Content-Security-Policy %q, want %q", got, want)
	}
}
