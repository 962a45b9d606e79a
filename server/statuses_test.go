package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/network"
	"github.com/sandbox-api/sandbox-api/process"
	"github.com/sandbox-api/sandbox-api/terminal"
	"github.com/sandbox-api/sandbox-api/upgrade"
	"github.com/sandbox-api/sandbox-api/watch"
)

// wrapped is err as handlers get it: behind a layer of context.
func wrapped(err error) error { return fmt.Errorf("doing something: %w", err) }

// TestErrorStatuses pins every row of the table, in order: a new row, a
// changed status or a reordering fails here first.
func TestErrorStatuses(t *testing.T) {
	want := []struct {
		err    error
		status int
	}{
		{os.ErrDeadlineExceeded, 408},
		{errBodyTooLarge, 413},
		{context.Canceled, 499},
		{context.DeadlineExceeded, 499},

		{process.ErrInvalidSpec, 400},
		{process.ErrNameInUse, 400},
		{process.ErrShuttingDown, 503},
		{process.ErrSwitching, 503},
		{process.ErrStart, 422},
		{process.ErrNoStdin, 409},
		{process.ErrStdinClosed, 409},
		{process.ErrStdinBlocked, 503},
		{process.ErrNotFound, 404},

		{network.ErrInvalidPID, 400},
		{network.ErrClosed, 503},
		{network.ErrFrozen, 503},

		{terminal.ErrNotFound, 404},
		{terminal.ErrInvalid, 400},
		{terminal.ErrTooManySessions, 503},
		{terminal.ErrFrozen, 503},

		{filesystem.ErrUploadNotFound, 404},
		{filesystem.ErrUploadPartTooLarge, 413},
		{filesystem.ErrInvalidUpload, 400},
		{filesystem.ErrUploadPartBody, 400},
		{filesystem.ErrTooManyUploads, 429},

		{upgrade.ErrInvalidRequest, 400},
		{upgrade.ErrNoBaseURL, 400},
		{upgrade.ErrNotAllowed, 403},
		{upgrade.ErrInProgress, 409},
		{upgrade.ErrUnavailable, 503},

		{filesystem.ErrInvalidSearch, 400},
		{watch.ErrLimit, 503},

		{filesystem.ErrSourceRead, 400},
		{filesystem.ErrInvalidPath, 400},
		{filesystem.ErrInvalidPermissions, 400},
		{filesystem.ErrNotEmpty, 422},
		{filesystem.ErrIsDirectory, 422},
		{filesystem.ErrNotDirectory, 422},
		{filesystem.ErrNotRegular, 422},
		{filesystem.ErrTooLarge, 413},
		{filesystem.ErrNoSpace, 507},

		{fs.ErrNotExist, 404},
		{syscall.ENOTDIR, 404},
		{syscall.ENAMETOOLONG, 400},
		{fs.ErrPermission, 403},
		{syscall.EROFS, 403},
	}
	if len(errorStatuses) != len(want) {
		t.Fatalf("the table has %d rows, the test pins %d", len(errorStatuses), len(want))
	}
	for i, w := range want {
		row := errorStatuses[i]
		if row.err != w.err || row.status != w.status {
			t.Errorf("row %d = %v → %d, want %v → %d", i, row.err, row.status, w.err, w.status)
		}
		if w.err == errBodyTooLarge {
			continue // matched by its type, below
		}
		if got := statusOf(wrapped(w.err)); got != w.status {
			t.Errorf("statusOf(wrapped %v) = %d, want %d", w.err, got, w.status)
		}
	}
}

// TestStatusOf: the table as handlers meet it, where an error wraps two
// rows or none.
func TestStatusOf(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want int
	}{
		{"a body over its limit, by its type", wrapped(&http.MaxBytesError{Limit: 1}), 413},
		{"a part body over its limit", fmt.Errorf("read the form: %w: %w", filesystem.ErrUploadPartBody, &http.MaxBytesError{Limit: 1}), 413},
		{"a part body that stalled", fmt.Errorf("%w: %w", filesystem.ErrUploadPartBody, stalledBodyError{err: os.ErrDeadlineExceeded}), 408},
		{"an upload that stalled", fmt.Errorf("%w: %w", filesystem.ErrSourceRead, os.ErrDeadlineExceeded), 408},
		{"a heavy read whose client left", fmt.Errorf("waiting for a turn: %w", context.Canceled), 499},
		{"bad terminal options naming a missing shell", fmt.Errorf("%w: shell: %w", terminal.ErrInvalid, fs.ErrNotExist), 400},
		{"a missing folder below a file", fmt.Errorf("%w: %w", fs.ErrNotExist, syscall.ENOTDIR), 404},
		{"a full disk, as the filesystem package tags it", fmt.Errorf("write x: %w", filesystem.ErrNoSpace), 507},
		{"a raw ENOSPC is no row", &fs.PathError{Op: "write", Path: "/x", Err: syscall.ENOSPC}, 500},
		{"a symbolic link loop is no row", &fs.PathError{Op: "stat", Path: "/x", Err: syscall.ELOOP}, 500},
		{"EACCES is fs.ErrPermission", &fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, 403},
		{"anything else", errors.New("boom"), 500},
	}
	for _, tc := range tests {
		if got := statusOf(tc.err); got != tc.want {
			t.Errorf("%s: statusOf(%v) = %d, want %d", tc.name, tc.err, got, tc.want)
		}
	}
}

// TestRouteStatuses pins every exception of every route group, and that
// an override replaces only the row it names.
func TestRouteStatuses(t *testing.T) {
	enotdir := &fs.PathError{Op: "stat", Path: "/f/x", Err: syscall.ENOTDIR}
	system := []error{
		&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENOENT},
		enotdir,
		&fs.PathError{Op: "open", Path: "/x", Err: syscall.ENAMETOOLONG},
		&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES},
		&fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS},
	}
	type check struct {
		err  error
		want int
	}
	systemIs500 := func(more ...check) []check {
		for _, err := range system {
			more = append(more, check{err, 500})
		}
		return more
	}
	tests := []struct {
		name   string
		group  *routeStatuses
		checks []check
	}{
		{"files", fileRoutes, []check{
			{enotdir, 500}, // a write below a file
			{fmt.Errorf("file does not exist: %w: %w", fs.ErrNotExist, syscall.ENOTDIR), 404}, // a read below a file
			{&fs.PathError{Op: "stat", Path: "/x", Err: syscall.ELOOP}, 500},
			{wrapped(fs.ErrNotExist), 404},
			{wrapped(filesystem.ErrNotDirectory), 422},
		}},
		{"multipart", multipartRoutes, []check{
			{fmt.Errorf("list uploads: %w", fs.ErrNotExist), 500},
			{enotdir, 500},
			{&fs.PathError{Op: "stat", Path: "/x", Err: syscall.ENAMETOOLONG}, 500},
			{fmt.Errorf("write x: %w: read part: EIO", filesystem.ErrSourceRead), 500},
			{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EACCES}, 403},
			{&fs.PathError{Op: "open", Path: "/x", Err: syscall.EROFS}, 403},
			{wrapped(filesystem.ErrUploadNotFound), 404},
			{wrapped(filesystem.ErrNoSpace), 507},
			{wrapped(filesystem.ErrNotRegular), 422},
		}},
		{"watch", watchRoutes, []check{
			{&fs.PathError{Op: "stat", Path: "/x", Err: syscall.ELOOP}, 400},
			{wrapped(context.Canceled), 500},
			{wrapped(context.DeadlineExceeded), 500},
			{enotdir, 404},
			{wrapped(watch.ErrLimit), 503},
		}},
		{"stdin", stdinRoutes, systemIs500(
			check{context.Canceled, 500},
			check{context.DeadlineExceeded, 500},
			check{process.ErrStdinClosed, 409},
			check{wrapped(process.ErrStdinBlocked), 503},
		)},
		{"network", networkRoutes, systemIs500(
			check{wrapped(network.ErrInvalidPID), 400},
			check{process.ErrNotFound, 404},
			check{network.ErrClosed, 503},
		)},
		{"terminal", terminalRoutes, systemIs500(
			check{fmt.Errorf("%w: shell: %w", terminal.ErrInvalid, fs.ErrNotExist), 400},
			check{wrapped(terminal.ErrTooManySessions), 503},
		)},
		{"request bodies", requestBodies, []check{
			{stalledBodyError{err: os.ErrDeadlineExceeded}, 408},
			{&http.MaxBytesError{Limit: 1}, 413},
			{io.EOF, 400},
			{io.ErrUnexpectedEOF, 400},
			{errors.New("invalid character 'x' looking for beginning of value"), 400},
		}},
	}
	for _, tc := range tests {
		for _, c := range tc.checks {
			if got := tc.group.statusOf(c.err); got != c.want {
				t.Errorf("%s: statusOf(%v) = %d, want %d", tc.name, c.err, got, c.want)
			}
		}
	}
}

func TestWriteFailure(t *testing.T) {
	rec := httptest.NewRecorder()
	multipartRoutes.writeFailure(rec, wrapped(filesystem.ErrTooManyUploads))
	if rec.Code != http.StatusTooManyRequests {
		t.Errorf("status = %d, want 429", rec.Code)
	}
	if got := decodeError(t, rec); got != "doing something: too many uploads open" {
		t.Errorf("error = %q", got)
	}
}
