package handover

import (
	"errors"
	"regexp"
	"strconv"
	"strings"
	"sync"
)

// FormatVersion is the version of the daemon's hand-over state: the
// envelope the upgrade package writes and the states of the domain
// packages in it. A binary resumes only a state of a version it knows, so
// the upgrade refuses a binary that does not say it knows this one.
const FormatVersion = 1

// EnvFD names the environment variable that gives the next image the
// number of the descriptor holding the state (a memory file). The number
// is not secret; the descriptor is read and closed before anything starts.
const EnvFD = "SANDBOX_API_HANDOVER_FD"

// VersionNote is what `sandbox-api --version` says of the hand-over
// states the binary reads ("handover 1"; a later binary that reads two
// says "handover 1,2").
func VersionNote() string { return "handover " + strconv.Itoa(FormatVersion) }

// versionNote finds the note in a --version output. Compiled on first use,
// by an upgrade: not at the package's init, on every start.
var versionNote = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`\bhandover ([0-9]+(?:,[0-9]+)*)\b`)
})

// ReadsFormat reports whether a binary whose --version printed output
// reads hand-over states of version v.
func ReadsFormat(output string, v int) bool {
	m := versionNote().FindStringSubmatch(output)
	if m == nil {
		return false
	}
	for _, s := range strings.Split(m[1], ",") {
		if s == strconv.Itoa(v) {
			return true
		}
	}
	return false
}

// ErrNoNote is the error of a --version output without the note: a
// binary of a daemon that cannot take over a running one.
// Made without fmt: it is made as the daemon starts (package
// initialisation), where fmt's first use cost some 20 µs.
var ErrNoNote = errors.New("its --version does not say it reads hand-over states (" + strconv.Quote(VersionNote()) + ")")
