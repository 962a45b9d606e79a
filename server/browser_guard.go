package server

import (
	"fmt"
	"net/http"
	"strings"
)

// Without a token, anything that reaches the port may drive the daemon:
// the platform in front of it is expected to authenticate. A web browser
// on the same machine, though, reaches the port on behalf of every site
// its user visits. guardBrowsers tells those requests apart by the headers
// only browsers add, which a page cannot remove or forge:
//
//   - Origin, sent on every cross-origin request, every websocket and
//     (Chromium, Firefox) every POST;
//   - Sec-Fetch-* (Fetch metadata), sent to https and localhost URLs.
//     Sec-Fetch-Mode alone is not a marker: Node's fetch (undici), which
//     the SDK uses, sends "Sec-Fetch-Mode: cors" on every request and no
//     other Sec-Fetch header, while browsers always send Sec-Fetch-Site
//     and Sec-Fetch-Dest with it.
//
// Go's http.CrossOriginProtection is not enough here: it lets every GET
// through (the terminal websocket is a GET), and it neither checks Host
// against DNS rebinding nor refuses the body types of simple requests.

// browserUserAgentPrefix starts every browser's User-Agent. Same-origin
// GETs of an http page carry no Origin and no Sec-Fetch-* (measured with
// Chromium), so on a Host the daemon does not know this is what catches a
// rebound page reading files. A page cannot change it in Chromium; Firefox
// lets a page set another User-Agent, so this narrows the gap without
// closing it (a token closes it).
const browserUserAgentPrefix = "Mozilla/"

// hasBrowserMarkers reports an Origin header or any Sec-Fetch-* header but
// Sec-Fetch-Mode.
func hasBrowserMarkers(h http.Header) bool {
	if len(h.Values("Origin")) > 0 {
		return true
	}
	for name := range h {
		if strings.HasPrefix(name, "Sec-Fetch-") && name != "Sec-Fetch-Mode" {
			return true
		}
	}
	return false
}

// preflightFreeBody reports a body a page could have sent to any origin
// with no preflight: one of the Fetch standard's CORS-safelisted types, or
// no type at all (a Blob or ArrayBuffer without one). Parameters and case
// do not matter.
func preflightFreeBody(contentType string) bool {
	essence, _, _ := strings.Cut(contentType, ";")
	switch strings.ToLower(strings.TrimSpace(essence)) {
	case "", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data":
		return true
	}
	return false
}

// browserRefusal decides whether a request of a browser may go on: 0, or
// the status and message to refuse it with. Requests without browser
// markers (curl, the SDK under Node, scripts, a proxy) always go on.
func (g *browserGuard) browserRefusal(r *http.Request) (int, string) {
	marked := hasBrowserMarkers(r.Header)
	if !marked && !strings.HasPrefix(r.Header.Get("User-Agent"), browserUserAgentPrefix) {
		return 0, ""
	}
	// DNS rebinding: a page whose own name now resolves to this machine
	// sends same-origin requests with that name as Host.
	if !g.knownHost(r.Host) {
		return http.StatusForbidden, fmt.Sprintf("browser request for host %q refused: this daemon does not know that name (DNS rebinding guard); "+
			"list it with --allowed-hosts, or set a token", r.Host)
	}
	if !marked {
		return 0, ""
	}
	if len(r.Header.Values("Origin")) > 0 {
		if origin := r.Header.Get("Origin"); !g.originAllowed(origin, r) {
			return http.StatusForbidden, fmt.Sprintf("browser request from origin %q refused: only this daemon's own pages may call it; "+
				"list the origin with --allowed-origins, or set a token", origin)
		}
	} else if site := strings.ToLower(r.Header.Get("Sec-Fetch-Site")); (site == "cross-site" || site == "same-site") && !isNavigation(r) {
		return http.StatusForbidden, fmt.Sprintf("browser request from another site refused (Sec-Fetch-Site: %s): only this daemon's own pages may call it; "+
			"set a token to open it to other sites", site)
	}
	// Listed origins and the daemon's own pages are held to bodies a
	// page cannot send to another origin without a preflight, so that no
	// mistake in the origin checks leaves a simple request open.
	if r.Method == http.MethodPost && r.ContentLength != 0 && preflightFreeBody(r.Header.Get("Content-Type")) {
		ct := r.Header.Get("Content-Type")
		if ct == "" {
			ct = "no Content-Type"
		}
		return http.StatusUnsupportedMediaType, fmt.Sprintf("a browser POST with %s is refused: any page can send one without a preflight; "+
			"send JSON as application/json (raw bytes as application/octet-stream)", ct)
	}
	return 0, ""
}

// isNavigation reports a GET or HEAD that loads a page or frame. The site
// that started it cannot read the answer, and none of the API's GETs
// changes anything, so a link from another site to /terminal still works.
func isNavigation(r *http.Request) bool {
	return (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		strings.EqualFold(r.Header.Get("Sec-Fetch-Mode"), "navigate")
}

// guardBrowsers refuses, before any handler runs, what browserRefusal
// refuses. With a token it does nothing: a browser never adds the bearer
// header on its own, and the terminal cookie is checked by requireToken.
func guardBrowsers(token string, g *browserGuard) func(http.Handler) http.Handler {
	if token != "" {
		return func(next http.Handler) http.Handler { return next }
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if status, msg := g.browserRefusal(r); status != 0 {
				writeError(w, status, msg)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}
