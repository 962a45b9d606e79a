package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
)

// The terminal page's credentials. A browser cannot put an Authorization
// header on a websocket, so with a token configured the page is opened once
// as /terminal?token=<token>: the daemon answers with a cookie and redirects
// to the token-free URL. The cookie holds an HMAC of the token, not the
// token, and opens only the /terminal routes.
const (
	terminalPath        = "/terminal"
	terminalTokenParam  = "token"
	terminalCookieName  = "sandbox_api_terminal"
	terminalCookieLabel = "sandbox-api terminal cookie v1"
)

// requireToken enforces "Authorization: Bearer <token>" on every route but
// /health when a token is configured; with no token the API is open (the
// platform in front of the sandbox authenticates). The /terminal routes
// also take the terminal cookie.
func requireToken(token string) func(http.Handler) http.Handler {
	if token == "" {
		return func(next http.Handler) http.Handler { return next }
	}
	// Comparing digests keeps the comparison constant-time in the length too.
	want := sha256.Sum256([]byte(token))
	valid := func(got string) bool {
		sum := sha256.Sum256([]byte(got))
		return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	}
	cookie := terminalCookieValue(token)
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == healthPath {
				next.ServeHTTP(w, r)
				return
			}
			terminal := isTerminalPath(r.URL.Path)
			if got, ok := bearerToken(r.Header.Get("Authorization")); ok {
				if !valid(got) {
					unauthorized(w, "invalid bearer token")
					return
				}
				next.ServeHTTP(w, r)
				return
			}
			if r.URL.Path == terminalPath && r.URL.Query().Has(terminalTokenParam) {
				if !valid(r.URL.Query().Get(terminalTokenParam)) {
					unauthorized(w, "invalid token in ?token=")
					return
				}
				setTerminalCookie(w, r, cookie)
				return
			}
			if terminal {
				if c, err := r.Cookie(terminalCookieName); err == nil {
					if subtle.ConstantTimeCompare([]byte(c.Value), []byte(cookie)) != 1 {
						unauthorized(w, "invalid terminal cookie: open /terminal?token=<token> again")
						return
					}
					if !sameOrigin(r) {
						// SameSite ignores ports: a page on another port of
						// this host would send the cookie too.
						writeError(w, http.StatusForbidden, "cross-origin request with the terminal cookie")
						return
					}
					next.ServeHTTP(w, r)
					return
				}
				unauthorized(w, "missing credentials: send Authorization: Bearer <token>, or open /terminal?token=<token> in a browser")
				return
			}
			unauthorized(w, "missing bearer token: send Authorization: Bearer <token>")
		})
	}
}

func unauthorized(w http.ResponseWriter, msg string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeError(w, http.StatusUnauthorized, msg)
}

func isTerminalPath(p string) bool {
	return p == terminalPath || strings.HasPrefix(p, terminalPath+"/")
}

// terminalCookieValue derives the cookie from the token, so the cookie
// grants the terminal but does not reveal the API token.
func terminalCookieValue(token string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(terminalCookieLabel))
	return hex.EncodeToString(mac.Sum(nil))
}

// setTerminalCookie answers /terminal?token= with the cookie and a redirect
// to the same page without the token, so it leaves the address bar and the
// history. The Location is relative, so a proxy's path prefix is kept; the
// cookie has no Path for the same reason (it defaults to the page's folder).
// SameSite=Lax, not Strict: a link to /terminal?token= followed from another
// site must still load the page after the redirect; the websocket of another
// site's page never gets a Lax cookie, and sameOrigin covers other ports.
func setTerminalCookie(w http.ResponseWriter, r *http.Request, value string) {
	http.SetCookie(w, &http.Cookie{
		Name:     terminalCookieName,
		Value:    value,
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   r.TLS != nil || strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https"),
	})
	q := r.URL.Query()
	q.Del(terminalTokenParam)
	loc := "terminal"
	if len(q) > 0 {
		loc += "?" + q.Encode()
	}
	w.Header().Set("Location", loc)
	w.WriteHeader(http.StatusSeeOther)
}

// sameOrigin reports whether a request's Origin, when it has one, is the
// host it was sent to (or the host a proxy says it was sent to).
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true // not sent by a page's script: no cross-site risk
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	fwd, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Host"), ",")
	return fwd != "" && strings.EqualFold(u.Host, strings.TrimSpace(fwd))
}

// bearerToken extracts the credentials of an "Authorization: Bearer x"
// header; the scheme name is case-insensitive (RFC 9110 §11.1).
func bearerToken(header string) (string, bool) {
	scheme, token, found := strings.Cut(strings.TrimSpace(header), " ")
	if !found || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}
