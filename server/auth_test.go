package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
)

// terminalAuthServer has a token and stand-ins for the terminal routes (the
// real ones need a terminal manager), behind the whole middleware stack.
func terminalAuthServer(t *testing.T) testServer {
	// sbx.example.org is the name a proxy in front forwards.
	opts := Options{Token: "secret", Browsers: BrowserPolicy{AllowedHosts: []string{"sbx.example.org"}}}
	return newTestServer(t, opts, func(r chi.Router) {
		ok := func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, map[string]string{"at": r.URL.Path})
		}
		r.Get("/terminal", ok)
		r.Get("/terminal/ws", ok)
		r.Get("/terminal/sessions", ok)
		r.Get("/process", ok)
	})
}

// TestTerminalTokenLogin: /terminal?token= trades the token for a cookie
// and a redirect to the page without it.
func TestTerminalTokenLogin(t *testing.T) {
	s := terminalAuthServer(t)
	tests := []struct {
		name, target string
		wantStatus   int
		wantLocation string
	}{
		{"right token", "/terminal?token=secret", http.StatusSeeOther, "terminal"},
		{"other parameters are kept", "/terminal?token=secret&shell=%2Fbin%2Fsh", http.StatusSeeOther, "terminal?shell=%2Fbin%2Fsh"},
		{"wrong token", "/terminal?token=secreT", http.StatusUnauthorized, ""},
		{"empty token", "/terminal?token=", http.StatusUnauthorized, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rec := s.do(httptest.NewRequest(http.MethodGet, tt.target, nil))
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			cookies := rec.Result().Cookies()
			if tt.wantStatus != http.StatusSeeOther {
				decodeError(t, rec)
				if len(cookies) != 0 {
					t.Errorf("cookies %v set on a refused login", cookies)
				}
				return
			}
			if got := rec.Header().Get("Location"); got != tt.wantLocation {
				t.Errorf("Location %q, want %q", got, tt.wantLocation)
			}
			if len(cookies) != 1 {
				t.Fatalf("cookies %v, want one", cookies)
			}
			c := cookies[0]
			if c.Name != terminalCookieName || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode || c.Secure {
				t.Errorf("cookie %+v, want %s, HttpOnly, SameSite=Lax, not Secure over plain HTTP", c, terminalCookieName)
			}
			if strings.Contains(c.Value, "secret") || !validTerminalCookie("secret", c.Value, time.Now()) {
				t.Errorf("cookie value %q: want the signed expiry and HMAC, not the token", c.Value)
			}
		})
	}

	t.Run("secure behind an https proxy of a listed host", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodGet, "/terminal?token=secret", nil)
		req.Header.Set("X-Forwarded-Proto", "https")
		req.Header.Set("X-Forwarded-Host", "sbx.example.org")
		rec := s.do(req)
		if cs := rec.Result().Cookies(); len(cs) != 1 || !cs[0].Secure {
			t.Errorf("cookies %v, want one Secure cookie", cs)
		}
	})
}

// TestTerminalCookie: the cookie opens the terminal routes from the same
// origin, and nothing else.
func TestTerminalCookie(t *testing.T) {
	s := terminalAuthServer(t)
	good := terminalCookieValue("secret", time.Now().Add(time.Hour))
	tests := []struct {
		name, path, cookie, origin, host string
		wantStatus                       int
	}{
		{"page", "/terminal", good, "", "", http.StatusOK},
		{"websocket from the page", "/terminal/ws", good, "http://example.com", "", http.StatusOK},
		{"sessions", "/terminal/sessions", good, "", "", http.StatusOK},
		{"host compared without case", "/terminal/ws", good, "http://EXAMPLE.com", "", http.StatusOK},
		{"websocket from another origin", "/terminal/ws", good, "http://evil.example", "", http.StatusForbidden},
		{"another port of the same host", "/terminal/ws", good, "http://example.com:3000", "", http.StatusForbidden},
		{"malformed origin", "/terminal/ws", good, "::", "", http.StatusForbidden},
		{"forwarded host of a proxy", "/terminal/ws", good, "https://sbx.example.org", "sbx.example.org", http.StatusOK},
		{"forwarded host not listed", "/terminal/ws", good, "https://evil.example", "evil.example", http.StatusForbidden},
		{"not an API key", "/process", good, "", "", http.StatusUnauthorized},
		{"terminal prefix is not a terminal path", "/terminalx", good, "", "", http.StatusUnauthorized},
		{"wrong cookie", "/terminal/ws", terminalCookieValue("other", time.Now().Add(time.Hour)), "", "", http.StatusUnauthorized},
		{"the raw token as cookie", "/terminal/ws", "secret", "", "", http.StatusUnauthorized},
		{"no cookie", "/terminal/ws", "", "", "", http.StatusUnauthorized},
		{"token in the query of another route", "/process?token=secret", "", "", "", http.StatusUnauthorized},
		{"token in the query of the websocket", "/terminal/ws?token=secret", "", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(http.MethodGet, tt.path, nil) // Host: example.com
			if tt.cookie != "" {
				req.AddCookie(&http.Cookie{Name: terminalCookieName, Value: tt.cookie})
			}
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.host != "" {
				req.Header.Set("X-Forwarded-Host", tt.host)
			}
			rec := s.do(req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if rec.Code != http.StatusOK {
				decodeError(t, rec)
			}
		})
	}
}

// TestTerminalBearerStillWorks: the header takes precedence and is checked
// as on every other route.
func TestTerminalBearerStillWorks(t *testing.T) {
	s := terminalAuthServer(t)
	for _, tt := range []struct {
		auth string
		want int
	}{{"Bearer secret", http.StatusOK}, {"Bearer nope", http.StatusUnauthorized}} {
		req := httptest.NewRequest(http.MethodGet, "/terminal/ws", nil)
		req.Header.Set("Authorization", tt.auth)
		req.AddCookie(&http.Cookie{Name: terminalCookieName, Value: terminalCookieValue("secret", time.Now().Add(time.Hour))})
		if rec := s.do(req); rec.Code != tt.want {
			t.Errorf("%s: status %d, want %d", tt.auth, rec.Code, tt.want)
		}
	}
}
