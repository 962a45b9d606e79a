package upgrade

import "errors"

// Errors callers can match with errors.Is. Those of Start refuse a request
// before anything happens; the others say, in the status, why an upgrade
// failed (the running daemon is then untouched).
var (
	// ErrInvalidRequest: the request is malformed (a bad version, URL,
	// sha256 or path).
	ErrInvalidRequest = errors.New("invalid upgrade request")
	// ErrNoBaseURL: a version was asked for, but neither the request nor
	// --upgrade-base-url says where releases are. This project has no
	// release site of its own.
	ErrNoBaseURL = errors.New("no release site: give baseUrl, or start the daemon with --upgrade-base-url")
	// ErrNotAllowed: under --user, the request asks for a binary the
	// workload could have chosen or written.
	ErrNotAllowed = errors.New("upgrade not allowed")
	// ErrInProgress: an upgrade is running already.
	ErrInProgress = errors.New("an upgrade is already running")
	// ErrUnavailable: the daemon is shutting down, or not serving yet.
	ErrUnavailable = errors.New("the daemon cannot upgrade now")

	// ErrDownload: the binary could not be fetched (an HTTP error, a
	// size or time bound, an unreadable file).
	ErrDownload = errors.New("cannot fetch the binary")
	// ErrChecksum: the binary does not have the sha256 the request gave.
	ErrChecksum = errors.New("sha256 mismatch")
	// ErrNotExecutable: the file is no executable of this OS.
	ErrNotExecutable = errors.New("not an executable")
	// ErrWrongPlatform: an executable for another architecture or OS.
	ErrWrongPlatform = errors.New("an executable for another platform")
	// ErrNoVersion: the binary did not answer --version as a sandbox-api
	// does, in time.
	ErrNoVersion = errors.New("not a working sandbox-api binary")
	// ErrIncompatible: the binary does not read this daemon's hand-over
	// state, so it could not take over the running processes.
	ErrIncompatible = errors.New("the binary cannot take over this daemon")
	// ErrSwitch: the switch itself failed before the exec (keeping the
	// running binary aside, freezing a service, the exec), and the
	// daemon went on.
	ErrSwitch = errors.New("the switch to the new binary failed")
	// ErrRolledBack: the new binary could not restore the state and the
	// earlier one took over again.
	ErrRolledBack = errors.New("the new binary could not take over; the earlier one is back")
)
