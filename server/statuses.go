package server

// The one table from the errors of the domain packages to HTTP statuses.
//
// A handler answers an error returned by a domain call (process, network,
// terminal, filesystem) with writeFailure, or with the writeFailure of
// its route group when the group has exceptions; it never picks the
// status itself. Statuses of requests refused before any domain call (a
// bad query parameter, a missing field, a body over its limit by its
// Content-Length) are written where that check is.

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"syscall"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/upgrade"
	"github.com/sandbox-api/sandbox-api/watch"
)

// statusClientGone answers a request whose context ended: its client
// left (or the daemon is stopping), so the access log is the only reader.
// It is nginx's code for it.
const statusClientGone = 499

// errorStatus is one row: the errors that wrap err answer status.
type errorStatus struct {
	err    error
	status int
}

// errBodyTooLarge stands in the table for *http.MaxBytesError, a type
// that errors.Is cannot match: a request body over its route's limit.
var errBodyTooLarge = errors.New("request body too large")

// matches reports whether err wraps the row's error.
func (row errorStatus) matches(err error) bool {
	if row.err == errBodyTooLarge {
		var tooBig *http.MaxBytesError
		return errors.As(err, &tooBig)
	}
	return errors.Is(err, row.err)
}

// errorStatuses is the table. The first row that err matches gives its
// status; an error no row matches is the daemon's own failure, 500. The
// order matters where an error wraps two of them: the request's own
// failures first (a stalled or oversized body surfaces wrapped in
// whatever was reading it), then the domain packages' named errors, which
// say more than the system errors they often wrap, then those.
var errorStatuses = []errorStatus{
	// The request.
	{os.ErrDeadlineExceeded, http.StatusRequestTimeout}, // a body that sent nothing for --body-idle-timeout (guardBody)
	{errBodyTooLarge, http.StatusRequestEntityTooLarge}, // a body past its route's limit (http.MaxBytesReader)
	{context.Canceled, statusClientGone},                // the client left
	{context.DeadlineExceeded, statusClientGone},        // the request's own deadline

	// Processes.
	{process.ErrInvalidSpec, http.StatusBadRequest},
	{process.ErrNameInUse, http.StatusBadRequest}, // the existing daemon's status
	{process.ErrShuttingDown, http.StatusServiceUnavailable},
	{process.ErrSwitching, http.StatusServiceUnavailable}, // an upgrade's switch: retry in a moment
	{process.ErrStart, http.StatusUnprocessableEntity},    // the command could not start (a missing folder included)
	{process.ErrNoStdin, http.StatusConflict},
	{process.ErrStdinClosed, http.StatusConflict},
	{process.ErrStdinBlocked, http.StatusServiceUnavailable}, // the process does not read: retry later
	{process.ErrNotFound, http.StatusNotFound},               // the network service's unknown pid too

	// Ports.
	{network.ErrInvalidPID, http.StatusBadRequest},
	{network.ErrClosed, http.StatusServiceUnavailable},
	{network.ErrFrozen, http.StatusServiceUnavailable}, // the daemon is switching images: retry

	// Terminal sessions.
	{terminal.ErrNotFound, http.StatusNotFound},
	{terminal.ErrInvalid, http.StatusBadRequest},
	{terminal.ErrTooManySessions, http.StatusServiceUnavailable},
	{terminal.ErrFrozen, http.StatusServiceUnavailable}, // the daemon is switching images: retry

	// Multipart uploads.
	{filesystem.ErrUploadNotFound, http.StatusNotFound},
	{filesystem.ErrUploadPartTooLarge, http.StatusRequestEntityTooLarge},
	{filesystem.ErrInvalidUpload, http.StatusBadRequest},
	{filesystem.ErrUploadPartBody, http.StatusBadRequest},
	{filesystem.ErrTooManyUploads, http.StatusTooManyRequests}, // the client can make room (complete or abort one): not the disk

	// Upgrades.
	{upgrade.ErrInvalidRequest, http.StatusBadRequest},
	{upgrade.ErrNoBaseURL, http.StatusBadRequest}, // the contract's GitHub default is not this project's (README: deviations)
	{upgrade.ErrNotAllowed, http.StatusForbidden}, // --user: a binary the workload could have chosen
	{upgrade.ErrInProgress, http.StatusConflict},
	{upgrade.ErrUnavailable, http.StatusServiceUnavailable},

	// Searches and watches.
	{filesystem.ErrInvalidSearch, http.StatusBadRequest},
	{watch.ErrLimit, http.StatusServiceUnavailable},

	// Files.
	{filesystem.ErrSourceRead, http.StatusBadRequest}, // a cut-off or malformed body
	{filesystem.ErrInvalidPath, http.StatusBadRequest},
	{filesystem.ErrInvalidPermissions, http.StatusBadRequest},
	{filesystem.ErrNotEmpty, http.StatusUnprocessableEntity},
	{filesystem.ErrIsDirectory, http.StatusUnprocessableEntity},
	{filesystem.ErrNotDirectory, http.StatusUnprocessableEntity},
	{filesystem.ErrNotRegular, http.StatusUnprocessableEntity}, // a FIFO, device or socket in the way
	{filesystem.ErrTooLarge, http.StatusRequestEntityTooLarge},
	{filesystem.ErrNoSpace, http.StatusInsufficientStorage}, // the disk or the quota is full, multipart uploads included

	// The system's errors, about a path the client named.
	{fs.ErrNotExist, http.StatusNotFound},
	{syscall.ENOTDIR, http.StatusNotFound}, // a file where the path needs a folder
	{syscall.ENAMETOOLONG, http.StatusBadRequest},
	{fs.ErrPermission, http.StatusForbidden}, // the files of another user (--user) included
	{syscall.EROFS, http.StatusForbidden},
}

// routeStatuses are the exceptions of a group of routes: statuses that
// those routes have always given some errors where the table says
// otherwise. Clients know these answers, so they are kept, but here, in
// sight, rather than in a mapping of the handler's own.
type routeStatuses struct {
	// overrides replace the status of the row an error matched (compared
	// by the row's error); an error that matches no row is matched
	// against them with errors.Is.
	overrides []errorStatus
	// fallback answers an error that neither a row nor an override
	// matches; 0 is 500.
	fallback int
}

// The route groups with exceptions; every other route uses the table
// alone (writeFailure).
var (
	// fileRoutes: GET, HEAD, PUT, DELETE /filesystem/{path} and
	// /filesystem/tree/{path}. A write below a file (PUT /filesystem/f/x
	// where f is a file) fails with a bare ENOTDIR, which these routes
	// answer 500; a read says 404 there, since the filesystem package
	// wraps that ENOTDIR in fs.ErrNotExist.
	fileRoutes = &routeStatuses{overrides: []errorStatus{
		{syscall.ENOTDIR, http.StatusInternalServerError},
	}}

	// multipartRoutes: /filesystem-multipart/... The system's errors there
	// are about the store's own folder or the assembly (the upload folder
	// gone, a destination name too long for the disk, a stored part that
	// cannot be read back): 500, never the client's 404 or 400.
	multipartRoutes = &routeStatuses{overrides: []errorStatus{
		{fs.ErrNotExist, http.StatusInternalServerError},
		{syscall.ENOTDIR, http.StatusInternalServerError},
		{syscall.ENAMETOOLONG, http.StatusInternalServerError},
		{filesystem.ErrSourceRead, http.StatusInternalServerError},
	}}

	// watchRoutes: GET /watch/filesystem/{path}. A loop of symbolic links
	// in the path is the client's (400; 500 elsewhere), and a watch whose
	// request ended while it was being armed answers 500.
	watchRoutes = &routeStatuses{overrides: []errorStatus{
		{syscall.ELOOP, http.StatusBadRequest},
		{context.Canceled, http.StatusInternalServerError},
		{context.DeadlineExceeded, http.StatusInternalServerError},
	}}

	// stdinRoutes: POST and DELETE /process/{identifier}/stdin. A write
	// whose request ended while it waited for its turn answers 500, and
	// what the system says is about the process's pipe (systemIsOurs).
	stdinRoutes = &routeStatuses{overrides: append([]errorStatus{
		{context.Canceled, http.StatusInternalServerError},
		{context.DeadlineExceeded, http.StatusInternalServerError},
	}, systemIsOurs...)}

	// networkRoutes: /network/... What the system says there is about
	// reading /proc (systemIsOurs).
	networkRoutes = &routeStatuses{overrides: systemIsOurs}

	// terminalRoutes: GET /terminal/ws. Bad options are terminal.ErrInvalid
	// (400); what the system says when a shell then fails to start on its
	// pty is about the pty (systemIsOurs).
	terminalRoutes = &routeStatuses{overrides: systemIsOurs}

	// requestBodies: reading and decoding a request body (JSON bodies,
	// stdin). Past a stall (408) and the limit (413), whatever goes wrong
	// (malformed JSON, an empty body, a connection reset) is the
	// client's: 400.
	requestBodies = &routeStatuses{fallback: http.StatusBadRequest}
)

// systemIsOurs answers every row of the system's errors 500, for routes
// where no path the client named is involved: there the system speaks of
// the daemon's own work (a pipe, /proc, a pty).
var systemIsOurs = []errorStatus{
	{fs.ErrNotExist, http.StatusInternalServerError},
	{syscall.ENOTDIR, http.StatusInternalServerError},
	{syscall.ENAMETOOLONG, http.StatusInternalServerError},
	{fs.ErrPermission, http.StatusInternalServerError},
	{syscall.EROFS, http.StatusInternalServerError},
}

// statusOf is the table's status for err.
func statusOf(err error) int {
	if row, ok := tableRow(err); ok {
		return row.status
	}
	return http.StatusInternalServerError
}

// statusOf is the group's status for err: the table's, but for the
// group's exceptions.
func (g *routeStatuses) statusOf(err error) int {
	row, ok := tableRow(err)
	for _, o := range g.overrides {
		if ok && o.err == row.err || !ok && o.matches(err) {
			return o.status
		}
	}
	switch {
	case ok:
		return row.status
	case g.fallback != 0:
		return g.fallback
	default:
		return http.StatusInternalServerError
	}
}

// tableRow is the first row of the table that err matches.
func tableRow(err error) (errorStatus, bool) {
	for _, row := range errorStatuses {
		if row.matches(err) {
			return row, true
		}
	}
	return errorStatus{}, false
}

// writeFailure answers err with the table's status and err's message.
func writeFailure(w http.ResponseWriter, err error) {
	writeError(w, statusOf(err), err.Error())
}

// writeFailure answers err with the group's status and err's message.
func (g *routeStatuses) writeFailure(w http.ResponseWriter, err error) {
	writeError(w, g.statusOf(err), err.Error())
}
