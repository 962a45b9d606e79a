//go:build e2eimage

package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// A Debian base built with mmdebstrap from the machine's own apt sources:
// no registry is reachable, the apt mirror is.
type debianBase struct {
	tag     string
	include []string
}

var (
	baseDebian = debianBase{"sbx-e2e/debian:base", []string{
		"ca-certificates", "curl", "procps", // curl: health checks; procps: ps for the zombie check
	}}
	// The node-python example's packages (its Dockerfile installs them from
	// the registry image; here they are in the base and PACKAGES is empty).
	baseDebianDev = debianBase{"sbx-e2e/debian:dev", append(append([]string{}, baseDebian.include...),
		"git", "python3", "make", "g++", "nodejs", "npm")}
)

const debianSuite = "bookworm"

// The mirror address must never land in an image: every apt source and
// list the bootstrap used is removed before the tarball is written.
var mmdebstrapHook = `rm -f "$1"/etc/apt/sources.list; rm -rf "$1"/etc/apt/sources.list.d/* "$1"/var/lib/apt/lists/*`

// cachedTarball returns the path of the base's rootfs tarball, building it
// when the cache has none for the same inputs: the suite, the packages, the
// hook, mmdebstrap's version and the machine's apt sources (a change of any
// rebuilds it). Older tarballs of the same base are removed.
func (b debianBase) cachedTarball(cacheDir string, sources []string) (path string, built bool, err error) {
	key, err := b.cacheKey(sources)
	if err != nil {
		return "", false, err
	}
	stem := strings.NewReplacer("/", "-", ":", "-").Replace(b.tag)
	path = filepath.Join(cacheDir, fmt.Sprintf("%s-%s.tar", stem, key[:16]))
	if _, err := os.Stat(path); err == nil {
		return path, false, nil
	}
	if err := os.MkdirAll(cacheDir, 0o755); err != nil {
		return "", false, err
	}
	partial := path + ".partial"
	args := []string{
		"--variant=minbase", "--format=tar", "--mode=root",
		"--include=" + strings.Join(b.include, ","),
		"--customize-hook=" + mmdebstrapHook,
		debianSuite, partial,
	}
	args = append(args, sources...) // the machine's sources, read as files
	if _, err := runCmd(20*time.Minute, nil, nil, "mmdebstrap", args...); err != nil {
		os.Remove(partial)
		return "", false, fmt.Errorf("build %s: %w", b.tag, err)
	}
	if err := os.Rename(partial, path); err != nil {
		return "", false, err
	}
	old, _ := filepath.Glob(filepath.Join(cacheDir, stem+"-*.tar"))
	for _, o := range old {
		if o != path {
			os.Remove(o)
		}
	}
	return path, true, nil
}

// cacheVersion changes when the way bases are built changes.
const cacheVersion = "1"

func (b debianBase) cacheKey(sources []string) (string, error) {
	version, err := runCmd(time.Minute, nil, nil, "mmdebstrap", "--version")
	if err != nil {
		return "", err
	}
	h := sha256.New()
	fmt.Fprintf(h, "v%s\n%s\n%s\n%s\n%s\n%s\n", cacheVersion, runtime.GOARCH, debianSuite,
		strings.Join(b.include, ","), mmdebstrapHook, version)
	for _, s := range sources {
		content, err := os.ReadFile(s)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s\n%s\n", s, content)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// cacheDir is ${XDG_CACHE_HOME:-$HOME/.cache}/sandbox-api-e2e.
func cacheDir() (string, error) {
	if x := os.Getenv("XDG_CACHE_HOME"); x != "" {
		return filepath.Join(x, "sandbox-api-e2e"), nil
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, ".cache", "sandbox-api-e2e"), nil
}
