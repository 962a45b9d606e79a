package filesystem

// Multipart uploads: a large file arrives as numbered parts, possibly out of
// order, in parallel and more than once, and is assembled when the client
// completes the upload. Nothing is held in memory: parts stream to disk
// (multipart_store.go, multipart_part.go), complete assembles them with an
// AtomicFile (multipart_assemble.go), and uploads left untouched for
// UploadTTL are removed (multipart_sweep.go).

import (
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	// MaxUploadPartSize caps one part, like S3's.
	MaxUploadPartSize = 5 << 30
	// MaxUploadPartNumber is the highest part number; the lowest is 1.
	MaxUploadPartNumber = 10000
	// DefaultUploadPermissions applies when an upload names none: it is
	// DefaultFilePermissions as Unix mode bits.
	DefaultUploadPermissions = 0o644
	// DefaultMaxUploads bounds the uploads open at once (Config.MaxUploads).
	// Each keeps a folder on disk until it is completed, aborted or expires
	// (DefaultUploadTTL), so a client initiating in a loop would otherwise
	// fill the disk's inodes; a thousand is far more than any client
	// uploads in parallel.
	DefaultMaxUploads = 1000
	// DefaultUploadTTL is how long an upload may go untouched before it is
	// removed (Config.UploadTTL): a day outlasts any pause of a client that
	// means to complete it, and bounds what an abandoned one costs.
	DefaultUploadTTL = 24 * time.Hour
)

// Errors of the multipart API; test them with errors.Is. Their messages
// are meant for the client. A full disk is ErrNoSpace, as for every
// other write of the package.
var (
	// ErrUploadNotFound: no upload has this id (never started, completed,
	// aborted or expired).
	ErrUploadNotFound = errors.New("upload not found")
	// ErrInvalidUpload: a bad id, part number, permission, path, or a
	// complete that names a missing part or a wrong etag.
	ErrInvalidUpload = errors.New("invalid multipart upload request")
	// ErrUploadPartTooLarge: a part over MaxUploadPartSize.
	ErrUploadPartTooLarge = errors.New("upload part too large")
	// ErrUploadPartBody: the part's body could not be read (client gone,
	// malformed form): the client's side, not the disk's.
	ErrUploadPartBody = errors.New("reading the upload part")
	// ErrTooManyUploads: Config.MaxUploads uploads are open already.
	ErrTooManyUploads = errors.New("too many uploads open")
)

// MultipartUpload is an upload in progress.
type MultipartUpload struct {
	ID          string
	Path        string // absolute destination
	Permissions uint32 // Unix mode bits (0o644), applied at completion
	InitiatedAt time.Time
	Parts       []UploadedPart // by part number
}

// UploadedPart is the current version of one part.
type UploadedPart struct {
	Number     int
	ETag       string // hex MD5 of the part's bytes
	Size       int64
	UploadedAt time.Time
}

// CompletedPart is a part as the client lists it to complete an upload.
// Size is checked when not zero.
type CompletedPart struct {
	Number int
	ETag   string
	Size   int64
}

// InitiateUpload starts an upload to path (relative to the working
// directory) with permissions given in octal ("0644"; "" for the default).
func (f *FS) InitiateUpload(path, permissions string) (MultipartUpload, error) {
	if path == "" {
		return MultipartUpload{}, uploadErr(ErrInvalidUpload, "a destination path is required")
	}
	up, err := f.uploads.initiate(f.Resolve(path), permissions)
	return up, noSpace(err)
}

// UploadPart stores part number of upload id from body, replacing an
// earlier version of that part. body is read to its end.
func (f *FS) UploadPart(id string, number int, body io.Reader) (UploadedPart, error) {
	part, err := f.uploads.putPart(id, number, body)
	return part, noSpace(err)
}

// CompleteUpload checks the listed parts against the uploaded ones,
// assembles them in part-number order into the destination, atomically,
// and removes the upload. It returns the destination path.
func (f *FS) CompleteUpload(id string, parts []CompletedPart) (string, error) {
	dest, err := f.uploads.complete(id, parts)
	return dest, noSpace(err)
}

// AbortUpload removes an upload and its parts.
func (f *FS) AbortUpload(id string) error { return noSpace(f.uploads.abort(id)) }

// UploadParts lists the parts of an upload by number.
func (f *FS) UploadParts(id string) ([]UploadedPart, error) {
	dir, _, err := f.uploads.open(id)
	if err != nil {
		return nil, err
	}
	return f.uploads.parts(dir)
}

// Uploads lists the uploads in progress, oldest first.
func (f *FS) Uploads() ([]MultipartUpload, error) { return f.uploads.list() }

// uploadError is a client-facing message that still matches its kind with
// errors.Is.
type uploadError struct {
	kind error
	msg  string
}

func (e *uploadError) Error() string { return e.msg }
func (e *uploadError) Unwrap() error { return e.kind }

func uploadErr(kind error, format string, args ...any) error {
	return &uploadError{kind: kind, msg: fmt.Sprintf(format, args...)}
}
