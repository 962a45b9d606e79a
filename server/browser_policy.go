package server

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"go.uber.org/zap"
)

// BrowserPolicy says which browser pages may drive a daemon that has no
// token, and which names it may be reached by. The zero value allows only
// the daemon's own pages, on IP literals, localhost and the machine's host
// name.
type BrowserPolicy struct {
	// AllowedOrigins are origins (scheme://host[:port]) besides the
	// daemon's own whose pages may call the API and frame the terminal
	// page; they get CORS headers.
	AllowedOrigins []string
	// AllowedHosts are the names the daemon is reached by besides IP
	// literals, localhost, *.localhost and Hostname: "name" or "*.suffix"
	// (any name under suffix). X-Forwarded-Host, -Proto and -Prefix are
	// believed only for these names.
	AllowedHosts []string
	// Hostname is the machine's host name (main passes os.Hostname()).
	Hostname string
}

// errBadPolicyEntry marks an --allowed-origins or --allowed-hosts entry
// that cannot be used.
var errBadPolicyEntry = errors.New("invalid entry")

// NormalizeOrigin checks an allowed origin and returns it the way browsers
// write it in the Origin header: lower case, without a default port, no
// trailing slash.
func NormalizeOrigin(s string) (string, error) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		return "", fmt.Errorf("origin %q: %w: %v", s, errBadPolicyEntry, err)
	}
	scheme := strings.ToLower(u.Scheme)
	if (scheme != "http" && scheme != "https") || u.Host == "" || u.User != nil ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("origin %q: %w: want scheme://host[:port], with http or https", s, errBadPolicyEntry)
	}
	return scheme + "://" + canonicalHostPort(u.Host, scheme), nil
}

// NormalizeAllowedHost checks an allowed host name ("name" or "*.suffix",
// no port: a name is allowed on every port) and returns it in lower case.
func NormalizeAllowedHost(s string) (string, error) {
	h := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(s)), ".")
	name := strings.TrimPrefix(h, "*.")
	switch {
	case name == "" || strings.Contains(name, "*"):
		return "", fmt.Errorf("host %q: %w: want a host name, or *.domain for every name under it", s, errBadPolicyEntry)
	case strings.ContainsAny(name, "/:@ ?#[]"):
		return "", fmt.Errorf("host %q: %w: want a bare host name, without scheme, port or path", s, errBadPolicyEntry)
	}
	return h, nil
}

// browserGuard is a BrowserPolicy ready for use by the middlewares.
type browserGuard struct {
	origins  []string // normalized, for the CSP and lookups
	hosts    []string // normalized names and *.suffix patterns
	hostname string   // lower case
}

// newBrowserGuard normalizes the policy. parseFlags has refused invalid
// entries already; one that still fails here is logged and left out,
// never allowed.
func newBrowserGuard(p BrowserPolicy, log *zap.Logger) *browserGuard {
	g := &browserGuard{hostname: strings.TrimSuffix(strings.ToLower(p.Hostname), ".")}
	for _, o := range p.AllowedOrigins {
		n, err := NormalizeOrigin(o)
		if err != nil {
			log.Warn("allowed origin ignored", zap.Error(err))
			continue
		}
		g.origins = append(g.origins, n)
	}
	for _, h := range p.AllowedHosts {
		n, err := NormalizeAllowedHost(h)
		if err != nil {
			log.Warn("allowed host ignored", zap.Error(err))
			continue
		}
		g.hosts = append(g.hosts, n)
	}
	return g
}

// listedHost reports whether hostport's name is in AllowedHosts.
func (g *browserGuard) listedHost(hostport string) bool {
	name := hostName(hostport)
	if name == "" {
		return false
	}
	for _, h := range g.hosts {
		if suffix, ok := strings.CutPrefix(h, "*."); ok {
			if strings.HasSuffix(name, "."+suffix) {
				return true
			}
		} else if name == h {
			return true
		}
	}
	return false
}

// knownHost reports whether a Host header names this daemon in a way a
// rebinding page cannot: an IP literal, localhost (browsers resolve
// *.localhost to loopback themselves, never through DNS), the machine's
// host name, or a listed name.
func (g *browserGuard) knownHost(hostport string) bool {
	name := hostName(hostport)
	switch {
	case name == "":
		return false
	case net.ParseIP(name) != nil, name == "localhost", strings.HasSuffix(name, ".localhost"):
		return true
	case g.hostname != "" && name == g.hostname:
		return true
	}
	return g.listedHost(hostport)
}

// forwardedHost returns X-Forwarded-Host when it names a listed host: a
// page can set that header on a same-origin request, so an unlisted value
// is ignored.
func (g *browserGuard) forwardedHost(r *http.Request) (string, bool) {
	fwd := firstForwarded(r.Header.Get("X-Forwarded-Host"))
	if fwd == "" || !g.listedHost(fwd) {
		return "", false
	}
	return fwd, true
}

// publicHost is the host the client addressed: the trusted forwarded host,
// else the Host header.
func (g *browserGuard) publicHost(r *http.Request) string {
	if fwd, ok := g.forwardedHost(r); ok {
		return fwd
	}
	return r.Host
}

// overTLS reports whether the client's connection is encrypted: TLS here,
// or X-Forwarded-Proto: https from a proxy serving a listed host.
func (g *browserGuard) overTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	return g.listedHost(g.publicHost(r)) &&
		strings.EqualFold(firstForwarded(r.Header.Get("X-Forwarded-Proto")), "https")
}

// pathPrefix is the X-Forwarded-Prefix of a proxy serving a listed host
// under a path of its own (without a trailing slash), or "".
func (g *browserGuard) pathPrefix(r *http.Request) string {
	p := strings.TrimSuffix(firstForwarded(r.Header.Get("X-Forwarded-Prefix")), "/")
	if p == "" || !g.listedHost(g.publicHost(r)) || !strings.HasPrefix(p, "/") || strings.ContainsAny(p, ";?# \t") {
		return ""
	}
	return p
}

// originAllowed reports whether a page of origin may drive the daemon: its
// own origin (the host the request was sent to) or a listed one.
func (g *browserGuard) originAllowed(origin string, r *http.Request) bool {
	n, err := NormalizeOrigin(origin)
	if err != nil {
		return false // "null" (sandboxed frames, file: pages) included
	}
	if slices.Contains(g.origins, n) {
		return true
	}
	scheme, host, _ := strings.Cut(n, "://")
	// The scheme is not compared: the daemon often cannot tell whether a
	// proxy in front of it spoke TLS to the browser.
	return host == canonicalHostPort(g.publicHost(r), scheme)
}

// frameAncestors is the terminal page's CSP frame-ancestors value.
func (g *browserGuard) frameAncestors() string {
	return strings.Join(append([]string{"frame-ancestors 'self'"}, g.origins...), " ")
}

// hostName returns the name of a host[:port], lower case, without brackets
// or trailing dot.
func hostName(hostport string) string {
	name := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		name = h
	}
	name = strings.TrimSuffix(strings.TrimPrefix(name, "["), "]")
	return strings.TrimSuffix(strings.ToLower(name), ".")
}

// canonicalHostPort lower-cases host[:port] and drops the scheme's default
// port, so that "Example.com:443" and "example.com" compare equal for https.
func canonicalHostPort(hostport, scheme string) string {
	hp := strings.ToLower(hostport)
	if h, port, err := net.SplitHostPort(hp); err == nil &&
		((scheme == "http" && port == "80") || (scheme == "https" && port == "443")) {
		if strings.Contains(h, ":") {
			return "[" + h + "]"
		}
		return h
	}
	return hp
}

// firstForwarded returns the first value of a comma-separated forwarding
// header: the one the outermost proxy set.
func firstForwarded(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}
