package server

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/go-chi/chi/v5"
)

// Browser headers as Chromium sends them (measured), and Node's fetch.
const (
	chromeUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36"
	nodeUA   = "node"
)

// guardedServer has no token, a policy with one listed origin and host,
// and stand-in routes that count the requests that reached them.
func guardedServer(t *testing.T) (testServer, *atomic.Int32) {
	var ran atomic.Int32
	opts := Options{Browsers: BrowserPolicy{
		AllowedOrigins: []string{"https://console.example.com"},
		AllowedHosts:   []string{"sbx.example.org", "*.sandboxes.example.net"},
		Hostname:       "Sandbox-Host",
	}}
	s := newTestServer(t, opts, func(r chi.Router) {
		ok := func(w http.ResponseWriter, r *http.Request) {
			ran.Add(1)
			writeJSON(w, http.StatusOK, map[string]string{"ran": r.URL.Path})
		}
		r.Post("/run", ok)
		r.Put("/run", ok)
		r.Get("/read", ok)
		r.Get("/terminal/ws", ok)
	})
	return s, &ran
}

// TestBrowserGuard: requests with browser markers for another origin,
// another site or an unknown Host are refused before any handler runs,
// and so are browser POSTs of a body any page can send; everything
// without browser markers passes as before.
func TestBrowserGuard(t *testing.T) {
	s, ran := guardedServer(t)
	tests := []struct {
		name        string
		method      string
		path        string
		host        string // default 127.0.0.1:8080
		contentType string
		body        string
		headers     map[string]string
		want        int
	}{
		// Not browsers: today's behaviour, whatever the body type or Host.
		{name: "curl -d", method: "POST", path: "/run", contentType: "application/x-www-form-urlencoded", body: "x", want: 200},
		{name: "text/plain without markers", method: "POST", path: "/run", contentType: "text/plain", body: "x", want: 200},
		{name: "Node fetch sends Sec-Fetch-Mode only", method: "POST", path: "/run", contentType: "text/plain;charset=UTF-8", body: "x",
			headers: map[string]string{"Sec-Fetch-Mode": "cors", "User-Agent": nodeUA}, want: 200},
		{name: "Node fetch multipart", method: "POST", path: "/run", contentType: "multipart/form-data; boundary=x", body: "x",
			headers: map[string]string{"Sec-Fetch-Mode": "cors"}, want: 200},
		{name: "proxy with a name of its own", method: "POST", path: "/run", host: "sbx-1.platform.example", contentType: "application/json", body: "{}", want: 200},
		{name: "script with no body type", method: "POST", path: "/run", body: "{}", want: 200},

		// Pages of other origins.
		{name: "cross-origin text/plain fetch", method: "POST", path: "/run", contentType: "text/plain;charset=UTF-8", body: "{}",
			headers: map[string]string{"Origin": "http://127.0.0.1:3000", "Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "no-cors", "User-Agent": chromeUA}, want: 403},
		{name: "cross-origin JSON (after a preflight)", method: "POST", path: "/run", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "cross-origin GET", method: "GET", path: "/read", headers: map[string]string{"Origin": "https://evil.example"}, want: 403},
		{name: "cross-origin websocket", method: "GET", path: "/terminal/ws",
			headers: map[string]string{"Origin": "http://localhost:3000", "Upgrade": "websocket", "Connection": "Upgrade"}, want: 403},
		{name: "another port of the same host", method: "GET", path: "/read", headers: map[string]string{"Origin": "http://127.0.0.1:8081"}, want: 403},
		{name: "origin null", method: "POST", path: "/run", contentType: "application/json", body: "{}", headers: map[string]string{"Origin": "null"}, want: 403},
		{name: "empty origin", method: "GET", path: "/read", headers: map[string]string{"Origin": ""}, want: 403},
		{name: "no-cors GET from another site", method: "GET", path: "/read",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "no-cors", "Sec-Fetch-Dest": "image"}, want: 403},
		{name: "same-site but another origin", method: "GET", path: "/read",
			headers: map[string]string{"Sec-Fetch-Site": "same-site", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, want: 403},
		{name: "form post from another site", method: "POST", path: "/run", contentType: "text/plain", body: "{}",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, want: 403},
		{name: "a future Sec-Fetch header counts", method: "GET", path: "/read",
			headers: map[string]string{"Sec-Fetch-Storage-Access": "none", "Sec-Fetch-Site": "cross-site"}, want: 403},

		// Navigations: the page that started them cannot read the answer.
		{name: "link from another site", method: "GET", path: "/read",
			headers: map[string]string{"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document", "User-Agent": chromeUA}, want: 200},
		{name: "typed in the address bar", method: "GET", path: "/read",
			headers: map[string]string{"Sec-Fetch-Site": "none", "Sec-Fetch-Mode": "navigate", "Sec-Fetch-Dest": "document"}, want: 200},

		// The daemon's own pages and listed origins.
		{name: "own page, JSON", method: "POST", path: "/run", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080", "Sec-Fetch-Site": "same-origin"}, want: 200},
		{name: "own page, host case and default port", method: "POST", path: "/run", host: "LOCALHOST:80", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "http://localhost"}, want: 200},
		{name: "own page, websocket", method: "GET", path: "/terminal/ws", headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 200},
		{name: "own page over IPv6", method: "GET", path: "/read", host: "[::1]:8080", headers: map[string]string{"Origin": "http://[::1]:8080"}, want: 200},
		{name: "listed origin, cross-site", method: "POST", path: "/run", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "https://console.example.com", "Sec-Fetch-Site": "cross-site"}, want: 200},
		{name: "listed origin, written with its default port", method: "GET", path: "/read", headers: map[string]string{"Origin": "https://CONSOLE.example.com:443"}, want: 200},
		{name: "listed origin over another scheme", method: "GET", path: "/read", headers: map[string]string{"Origin": "http://console.example.com"}, want: 403},

		// Bodies a page can send without a preflight, even from allowed pages.
		{name: "own page, text/plain", method: "POST", path: "/run", contentType: "text/plain", body: "{}",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 415},
		{name: "own page, form", method: "POST", path: "/run", contentType: "Application/X-WWW-Form-Urlencoded ; charset=utf-8", body: "a=b",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 415},
		{name: "listed origin, multipart", method: "POST", path: "/run", contentType: "multipart/form-data; boundary=x", body: "x",
			headers: map[string]string{"Origin": "https://console.example.com"}, want: 415},
		{name: "own page, body without a type", method: "POST", path: "/run", body: "{}",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 415},
		{name: "Sec-Fetch only, text/plain", method: "POST", path: "/run", contentType: "text/plain", body: "{}",
			headers: map[string]string{"Sec-Fetch-Site": "same-origin", "Sec-Fetch-Mode": "cors", "Sec-Fetch-Dest": "empty"}, want: 415},
		{name: "own page, empty POST", method: "POST", path: "/run", headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 200},
		{name: "own page, raw bytes", method: "POST", path: "/run", contentType: "application/octet-stream", body: "x",
			headers: map[string]string{"Origin": "http://127.0.0.1:8080"}, want: 200},
		{name: "PUT needs a preflight, so its type is free", method: "PUT", path: "/run", contentType: "multipart/form-data; boundary=x", body: "x",
			headers: map[string]string{"Origin": "https://console.example.com"}, want: 200},

		// DNS rebinding: the page's own name as Host.
		{name: "rebound page, POST", method: "POST", path: "/run", host: "evil.example:8080", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "http://evil.example:8080", "User-Agent": chromeUA}, want: 403},
		{name: "rebound page, GET without Origin or Sec-Fetch", method: "GET", path: "/read", host: "evil.example:8080",
			headers: map[string]string{"User-Agent": chromeUA}, want: 403},
		{name: "rebound page forging a listed X-Forwarded-Host", method: "GET", path: "/read", host: "evil.example:8080",
			headers: map[string]string{"User-Agent": chromeUA, "X-Forwarded-Host": "sbx.example.org"}, want: 403},
		{name: "rebound page forging X-Forwarded-Host with its Origin", method: "POST", path: "/run", host: "127.0.0.1:8080", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "http://evil.example:8080", "X-Forwarded-Host": "evil.example:8080"}, want: 403},
		{name: "localhost", method: "GET", path: "/read", host: "localhost:8080", headers: map[string]string{"Origin": "http://localhost:8080"}, want: 200},
		{name: "a name under localhost", method: "GET", path: "/read", host: "app.localhost:8080", headers: map[string]string{"User-Agent": chromeUA}, want: 200},
		{name: "the machine's host name", method: "GET", path: "/read", host: "sandbox-host:8080", headers: map[string]string{"Origin": "http://sandbox-host:8080"}, want: 200},
		{name: "a listed host", method: "GET", path: "/read", host: "SBX.example.org", headers: map[string]string{"Origin": "https://sbx.example.org"}, want: 200},
		{name: "a name under a listed wildcard", method: "GET", path: "/read", host: "a1.sandboxes.example.net",
			headers: map[string]string{"Origin": "https://a1.sandboxes.example.net"}, want: 200},
		{name: "the wildcard's own name is not under it", method: "GET", path: "/read", host: "sandboxes.example.net", headers: map[string]string{"User-Agent": chromeUA}, want: 403},
		{name: "a suffix that is not a subdomain", method: "GET", path: "/read", host: "evilsbx.example.org", headers: map[string]string{"User-Agent": chromeUA}, want: 403},
		{name: "proxy rewrites Host, forwards a listed name", method: "POST", path: "/run", host: "10.0.0.5:8080", contentType: "application/json", body: "{}",
			headers: map[string]string{"Origin": "https://sbx.example.org", "X-Forwarded-Host": "sbx.example.org", "X-Forwarded-Proto": "https"}, want: 200},
		{name: "preflight from another origin", method: "OPTIONS", path: "/run",
			headers: map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}, want: 403},
		{name: "preflight from a listed origin", method: "OPTIONS", path: "/run",
			headers: map[string]string{"Origin": "https://console.example.com", "Access-Control-Request-Method": "POST"}, want: 204},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, strings.NewReader(tt.body))
			req.Host = "127.0.0.1:8080"
			if tt.host != "" {
				req.Host = tt.host
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			for k, v := range tt.headers {
				req.Header.Set(k, v)
			}
			before := ran.Load()
			rec := s.do(req)
			if rec.Code != tt.want {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.want, rec.Body.String())
			}
			reached := ran.Load() != before
			if wantRun := tt.want == 200; reached != wantRun {
				t.Errorf("handler ran: %v, want %v", reached, wantRun)
			}
			if tt.want == 403 || tt.want == 415 {
				decodeError(t, rec)
				if got := rec.Header().Get("Access-Control-Allow-Origin"); got != "" {
					t.Errorf("Access-Control-Allow-Origin %q on a refusal: the page must not read it", got)
				}
			}
		})
	}
}

// TestBrowserGuardOffWithToken: a token protects the API from pages by
// itself, so the guard does not get in the way of a token client.
func TestBrowserGuardOffWithToken(t *testing.T) {
	s := newTestServer(t, Options{Token: "secret"}, func(r chi.Router) {
		r.Post("/run", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, nil) })
	})
	req := httptest.NewRequest(http.MethodPost, "/run", strings.NewReader("{}"))
	req.Host = "evil.example"
	req.Header.Set("Origin", "https://evil.example")
	req.Header.Set("Content-Type", "text/plain")
	req.Header.Set("Authorization", "Bearer secret")
	if rec := s.do(req); rec.Code != http.StatusOK {
		t.Fatalf("status %d, want 200 (%s)", rec.Code, rec.Body.String())
	}
}

// TestCORSHeadersFollowTheGuard: without a token only allowed origins get
// CORS headers (their own origin echoed, with Vary: Origin); with a token
// every origin gets "*".
func TestCORSHeadersFollowTheGuard(t *testing.T) {
	policy := BrowserPolicy{AllowedOrigins: []string{"https://console.example.com"}}
	tests := []struct {
		name, token, origin, method string
		wantStatus                  int
		wantAllow, wantVary         string
	}{
		{"listed origin", "", "https://console.example.com", "GET", 200, "https://console.example.com", "Origin"},
		{"listed origin, preflight", "", "https://console.example.com", "OPTIONS", 204, "https://console.example.com", "Origin"},
		{"own origin", "", "http://127.0.0.1:8080", "GET", 200, "http://127.0.0.1:8080", "Origin"},
		{"no origin", "", "", "GET", 200, "", "Origin"},
		{"another origin", "", "https://evil.example", "GET", 403, "", ""}, // refused before CORS
		{"token, any origin", "secret", "https://evil.example", "GET", 200, "*", ""},
		{"token, preflight", "secret", "https://evil.example", "OPTIONS", 204, "*", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Options{Token: tt.token, Browsers: policy}, nil)
			req := httptest.NewRequest(tt.method, "/health", nil)
			req.Host = "127.0.0.1:8080"
			if tt.origin != "" {
				req.Header.Set("Origin", tt.origin)
			}
			if tt.method == http.MethodOptions {
				req.Header.Set("Access-Control-Request-Method", "POST")
			}
			rec := s.do(req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", rec.Code, tt.wantStatus, rec.Body.String())
			}
			if got := rec.Header().Get("Access-Control-Allow-Origin"); got != tt.wantAllow {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tt.wantAllow)
			}
			if got := rec.Header().Get("Vary"); got != tt.wantVary {
				t.Errorf("Vary %q, want %q", got, tt.wantVary)
			}
			if methods := rec.Header().Get("Access-Control-Allow-Methods"); (methods != "") != (tt.wantAllow != "") {
				t.Errorf("Access-Control-Allow-Methods %q with Allow-Origin %q", methods, tt.wantAllow)
			}
		})
	}
}
