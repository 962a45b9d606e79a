package server

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// pathAfter returns the filesystem path that follows prefix in the request
// path, decoded here rather than by the router, because it arrives in
// several forms that must all work: fully encoded as one segment
// ("/filesystem/%2Ftmp%2Fa.txt", the SDK's generated client), raw with a
// double slash ("/filesystem//tmp/a.txt", its writeBinary and writeTree),
// or relative ("/filesystem/src/a.txt"). The result is "" for the bare
// prefix, a relative path, or an absolute one.
func pathAfter(r *http.Request, prefix string) (string, error) {
	escaped := r.URL.EscapedPath()
	rest, ok := strings.CutPrefix(escaped, prefix)
	if !ok {
		return "", fmt.Errorf("path %q is not under %s", escaped, prefix)
	}
	p, err := url.PathUnescape(rest)
	if err != nil {
		return "", fmt.Errorf("invalid path encoding: %w", err)
	}
	if strings.ContainsRune(p, 0) {
		return "", fmt.Errorf("path contains a NUL byte")
	}
	return p, nil
}
