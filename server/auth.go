package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The terminal page's credentials. A browser cannot put an Authorization
// header on a websocket, so with a token configured the page is opened once
// as /terminal?token=<token>: the daemon answers with a cookie and redirects
// to the token-free URL. The cookie holds its expiry and an HMAC of the
// token and that expiry, not the token, and opens only the /terminal routes.
const (
	terminalPath        = "/terminal"
	terminalTokenParam  = "token"
	terminalCookieName  = "sandbox_api_terminal"
	terminalCookieLabel = "sandbox-api terminal cookie v2"
)

// TerminalCookieLifetime is how long the terminal cookie opens the
// terminal: a working day. It grants a shell, so it must not last for ever;
// the daemon checks the expiry it signed, not only the browser.
const TerminalCookieLifetime = 12 * time.Hour

// requireToken enforces "Authorization: Bearer <token>" on every route but
// /health when a token is configured; with no token the API is open (the
// platform in front of the sandbox authenticates). The /terminal routes
// also take the terminal cookie.
func requireToken(token string, g *browserGuard) func(http.Handler) http.Handler {
	if token == "" {
		return func(next http.Handler) http.Handler { return next }
	}
	// Comparing digests keeps the comparison constant-time in the length too.
	want := sha256.Sum256([]byte(token))
	valid := func(got string) bool {
		sum := sha256.Sum256([]byte(got))
		return subtle.ConstantTimeCompare(sum[:], want[:]) == 1
	}
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
				setTerminalCookie(w, r, token, g, time.Now())
				return
			}
			if terminal {
				if c, err := r.Cookie(terminalCookieName); err == nil {
					if !validTerminalCookie(token, c.Value, time.Now()) {
						unauthorized(w, "invalid or expired terminal cookie: open /terminal?token=<token> again")
						return
					}
					if origin := r.Header.Get("Origin"); origin != "" && !g.originAllowed(origin, r) {
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

// terminalCookieValue derives the cookie from the token and its expiry,
// "<unix seconds>.<hex HMAC>", so the cookie grants the terminal until
// then but does not reveal the API token.
func terminalCookieValue(token string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return exp + "." + terminalCookieMAC(token, exp)
}

func terminalCookieMAC(token, exp string) string {
	mac := hmac.New(sha256.New, []byte(token))
	mac.Write([]byte(terminalCookieLabel + "\x00" + exp))
	return hex.EncodeToString(mac.Sum(nil))
}

// validTerminalCookie reports a cookie made by terminalCookieValue for
// token that has not expired at now.
func validTerminalCookie(token, value string, now time.Time) bool {
	exp, mac, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	unix, err := strconv.ParseInt(exp, 10, 64)
	if err != nil || now.Unix() >= unix {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(terminalCookieMAC(token, exp)))
}

// setTerminalCookie answers /terminal?token= with the cookie and a redirect
// to the same page without the token, so it leaves the address bar and the
// history. The Location is relative, so a proxy's path prefix is kept. The
// cookie goes only to /terminal (under the X-Forwarded-Prefix of a proxy
// serving a listed host) and lasts TerminalCookieLifetime. SameSite=Lax,
// not Strict: a link to /terminal?token= followed from another site must
// still load the page after the redirect; the websocket of another site's
// page never gets a Lax cookie, and the Origin check covers other ports.
func setTerminalCookie(w http.ResponseWriter, r *http.Request, token string, g *browserGuard, now time.Time) {
	expires := now.Add(TerminalCookieLifetime)
	http.SetCookie(w, &http.Cookie{
		Name:     terminalCookieName,
		Value:    terminalCookieValue(token, expires),
		Path:     g.pathPrefix(r) + terminalPath,
		Expires:  expires,
		MaxAge:   int(TerminalCookieLifetime / time.Second),
		HttpOnly: true,
		SameSite: http.SameSiteLaxMode,
		Secure:   g.overTLS(r),
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
