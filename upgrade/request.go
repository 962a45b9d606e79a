package upgrade

import (
	"encoding/hex"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
)

// Request is what a client asks for: a release (Version, BaseURL) or a
// binary already in the sandbox (BinaryPath), and optionally the sha256
// the binary must have.
type Request struct {
	// Version is "latest" (the default) or a release tag.
	Version string
	// BaseURL is where releases are: {BaseURL}/latest/download/<asset>
	// and {BaseURL}/download/<version>/<asset>. Default: the daemon's
	// --upgrade-base-url.
	BaseURL string
	// BinaryPath is an absolute path to a binary in the sandbox (uploaded
	// through the filesystem API, say); not with Version or BaseURL.
	BinaryPath string
	// SHA256 is the binary's expected sha256, in hex.
	SHA256 string
	// own: the daemon's own binary, for SIGUSR2 (OwnBinary).
	own bool
}

// OwnBinary asks for the binary at the daemon's own path (Config.OwnPath):
// what SIGUSR2 does after `docker cp` put a new one there.
func OwnBinary() Request { return Request{own: true} }

// plan is a checked request: where the binary comes from, and what to
// check it against.
type plan struct {
	version string // the status's: asked for, or "" until the binary says its own
	url     string // a download, or
	path    string // a file in the sandbox
	sha256  string // lowercase hex; "" when not asked
}

// isVersionName reports whether s may be a release tag, which goes into a
// URL path: 1 to 128 ASCII letters, digits and ._+-, a letter or digit
// first. Checked by hand: the same rule as a regular expression compiled
// at package init cost 120 KB of heap and 0.27 ms of every start.
func isVersionName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '+' && c != '-') {
			return false
		}
	}
	return true
}

// assetName is the release asset of this daemon's platform.
func assetName() string { return "sandbox-api-" + runtime.GOOS + "-" + runtime.GOARCH }

// releaseURL is the contract's release layout: latest, or a tag.
func releaseURL(base, version string) string {
	base = strings.TrimRight(base, "/")
	if version == "latest" {
		return base + "/latest/download/" + assetName()
	}
	return base + "/download/" + url.PathEscape(version) + "/" + assetName()
}

// plan checks r against the configuration; its errors wrap
// ErrInvalidRequest, ErrNoBaseURL or ErrNotAllowed.
func (u *Upgrader) plan(r Request) (plan, error) {
	var p plan
	if r.SHA256 != "" {
		sum, err := hex.DecodeString(r.SHA256)
		if err != nil || len(sum) != 32 {
			return p, fmt.Errorf("%w: sha256 must be 64 hexadecimal digits", ErrInvalidRequest)
		}
		p.sha256 = strings.ToLower(r.SHA256)
	}
	switch {
	case r.own:
		if u.cfg.OwnPath == "" {
			return p, fmt.Errorf("%w: the daemon's own path is not known", ErrInvalidRequest)
		}
		r.BinaryPath = u.cfg.OwnPath
		fallthrough
	case r.BinaryPath != "":
		if r.Version != "" || r.BaseURL != "" {
			return p, fmt.Errorf("%w: give binaryPath, or version and baseUrl, not both", ErrInvalidRequest)
		}
		if !filepath.IsAbs(r.BinaryPath) || strings.ContainsRune(r.BinaryPath, 0) {
			return p, fmt.Errorf("%w: binaryPath must be an absolute path", ErrInvalidRequest)
		}
		p.path = filepath.Clean(r.BinaryPath)
		if u.cfg.Restricted {
			// Checked again on the open file when it is copied; here so
			// that the client hears of it at once.
			if _, err := resolveRootOnly(p.path); err != nil {
				return p, fmt.Errorf("%w: under --user a binaryPath must be root's and writable by nobody else, its folders too: %v", ErrNotAllowed, err)
			}
		}
		return p, nil
	}
	p.version = r.Version
	if p.version == "" {
		p.version = "latest"
	}
	if !isVersionName(p.version) {
		return p, fmt.Errorf("%w: version %q: letters, digits, '.', '_', '+' and '-' only", ErrInvalidRequest, p.version)
	}
	base := r.BaseURL
	if u.cfg.Restricted {
		switch {
		case u.cfg.BaseURL == "":
			return p, fmt.Errorf("%w: under --user only the operator's --upgrade-base-url is used, and none was given", ErrNotAllowed)
		case base != "" && strings.TrimRight(base, "/") != strings.TrimRight(u.cfg.BaseURL, "/"):
			return p, fmt.Errorf("%w: under --user only the operator's --upgrade-base-url is used", ErrNotAllowed)
		case p.sha256 == "":
			return p, fmt.Errorf("%w: under --user a download needs its sha256", ErrNotAllowed)
		}
	}
	if base == "" {
		base = u.cfg.BaseURL
	}
	if base == "" {
		return p, ErrNoBaseURL
	}
	if err := checkBaseURL(base); err != nil {
		return p, err
	}
	p.url = releaseURL(base, p.version)
	return p, nil
}

// checkBaseURL accepts an absolute http or https URL without a query or a
// fragment.
func checkBaseURL(base string) error {
	b, err := url.Parse(base)
	if err != nil || (b.Scheme != "http" && b.Scheme != "https") || b.Host == "" || b.RawQuery != "" || b.Fragment != "" {
		return fmt.Errorf("%w: baseUrl %q must be an http or https URL without a query", ErrInvalidRequest, base)
	}
	return nil
}
