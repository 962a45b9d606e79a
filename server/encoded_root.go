package server

import (
	"net/http"
	"net/url"
	"strings"
)

// encodedRootSlash rewrites "<prefix>%2F<rest>" to "<prefix>/%2F<rest>"
// before routing, so the form reaches the same route, and the same path
// decoding, as the SDK's "<prefix>/%2Ftmp%2Fx". Done once here rather than
// in each handler; the router matches on the escaped path, where the
// glued form fits no route.
func encodedRootSlash(next http.Handler) http.Handler {
	prefixes := pathPrefixes()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if escaped, ok := splitEncodedRoot(r.URL.EscapedPath(), prefixes); ok {
			if decoded, err := url.PathUnescape(escaped); err == nil {
				u := *r.URL
				u.Path, u.RawPath = decoded, escaped
				r = r.WithContext(r.Context())
				r.URL = &u
			}
		}
		next.ServeHTTP(w, r)
	})
}

// splitEncodedRoot returns escaped with a "/" put between a prefix and the
// "%2F" glued to it, and whether it did.
func splitEncodedRoot(escaped string, prefixes []string) (string, bool) {
	const slash = "%2F"
	for _, p := range prefixes {
		rest, ok := strings.CutPrefix(escaped, p)
		if ok && len(rest) >= len(slash) && strings.EqualFold(rest[:len(slash)], slash) {
			return p + "/" + rest, true
		}
	}
	return escaped, false
}
