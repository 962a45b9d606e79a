package filesystem

import (
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/runas"
)

// complete lands the listed parts at the upload's destination and removes
// the upload. While it runs the upload is sealed: parts sent meanwhile go
// to data files of their own, so the slots it reads stay as they are.
func (u *uploads) complete(id string, listed []CompletedPart) (string, error) {
	if err := uploadCheckID(id); err != nil {
		return "", err
	}
	h := fnv.New32a()
	_, _ = io.WriteString(h, id)
	lock := &u.completing[h.Sum32()%uint32(len(u.completing))]
	lock.Lock()
	defer lock.Unlock()
	quiet := u.claims.seal(id)
	defer u.claims.unseal(id)
	dir, meta, err := u.open(id)
	if err != nil {
		return "", err
	}
	pieces, err := u.checkParts(dir, listed)
	if err != nil {
		return "", err
	}
	dest := meta.Path
	mode := fileMode(meta.Permissions)
	landed := false
	if quiet {
		if landed, err = u.landInPlace(dir, dest, mode, pieces); err != nil {
			return "", uploadDestErr(dest, err)
		}
	}
	if !landed {
		if err := uploadAssemble(u.writes, u.user, dest, mode, pieces); err != nil {
			return "", err
		}
	}
	if err := u.remove(id); err != nil && !errors.Is(err, ErrUploadNotFound) {
		// The file is in place; the leftover parts are the sweep's.
		u.log.Warn("remove a completed upload", zap.String("upload", id), zap.Error(err))
	}
	return dest, nil
}

// uploadNormalizeETag accepts an etag as S3 clients send it too: quoted,
// in any case.
func uploadNormalizeETag(s string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`))
}

// partPiece is where the bytes of a listed part are: size bytes at off
// of the data file at path.
type partPiece struct {
	number    int
	path      string
	off, size int64
}

// checkParts matches the client's list with the stored parts and returns
// where their bytes are, in order.
func (u *uploads) checkParts(dir string, listed []CompletedPart) ([]partPiece, error) {
	if len(listed) == 0 {
		return nil, uploadErr(ErrInvalidUpload, "no parts to complete the upload with")
	}
	sorted := slices.Clone(listed)
	slices.SortFunc(sorted, func(a, b CompletedPart) int { return a.Number - b.Number })
	pieces := make([]partPiece, 0, len(sorted))
	for i, p := range sorted {
		if err := uploadCheckPartNumber(p.Number); err != nil {
			return nil, err
		}
		if i > 0 && sorted[i-1].Number == p.Number {
			return nil, uploadErr(ErrInvalidUpload, "part %d is listed twice", p.Number)
		}
		var m partMeta
		if err := uploadReadJSON(filepath.Join(dir, uploadPartFile(p.Number)), &m); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil, uploadErr(ErrInvalidUpload, "part %d was not uploaded", p.Number)
			}
			return nil, fmt.Errorf("read part %d: %w", p.Number, err)
		}
		if got := uploadNormalizeETag(p.ETag); got != m.ETag {
			return nil, uploadErr(ErrInvalidUpload, "part %d: etag %q does not match the uploaded part (%s)", p.Number, uploadQuote(p.ETag), m.ETag)
		}
		if p.Size != 0 && p.Size != m.Size {
			return nil, uploadErr(ErrInvalidUpload, "part %d: size %d does not match the uploaded part (%d bytes)", p.Number, p.Size, m.Size)
		}
		data, ok := m.dataPath(dir)
		if !ok || m.Offset < 0 || m.Size < 0 {
			return nil, fmt.Errorf("part %d: corrupt part record", p.Number)
		}
		pieces = append(pieces, partPiece{number: p.Number, path: data, off: m.Offset, size: m.Size})
	}
	return pieces, nil
}

// uploadAssemble writes the pieces, in order, to dest with mode, the way
// every write of the package lands (see AtomicFile): dest is either
// untouched or complete, and a failure creates no folder. The destination
// is written as user; the parts are the daemon's and read as the daemon.
func uploadAssemble(writes *inflightWrites, user *runas.User, dest string, mode fs.FileMode, pieces []partPiece) error {
	a, err := createAtomic(writes, user, dest)
	if err != nil {
		return uploadDestErr(dest, err)
	}
	defer a.Abort()
	for _, p := range pieces {
		if err := uploadAppend(a, p); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return uploadErr(ErrInvalidUpload, "part %d of the list was replaced or removed while completing", p.number)
			}
			return err // it names dest already
		}
	}
	// The upload's mode always applies, as it was recorded at initiate,
	// even over an existing file.
	return uploadDestErr(dest, a.Commit(&mode))
}

// uploadAppend copies one piece to the end of a (by the kernel, see
// AtomicFile.ReadFrom).
func uploadAppend(a *AtomicFile, p partPiece) error {
	src, err := os.Open(p.path)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := src.Seek(p.off, io.SeekStart); err != nil {
		return fmt.Errorf("read part %d: %w", p.number, err)
	}
	n, err := a.ReadFrom(&io.LimitedReader{R: src, N: p.size})
	if err == nil && n != p.size {
		err = fmt.Errorf("part %d: its data holds %d of its %d bytes", p.number, n, p.size)
	}
	return err
}

// uploadDestErr makes a destination that cannot be a file (a folder, or a
// file where a parent folder should be) the client's mistake, as the
// multipart API reports it; other errors, a full disk included, pass.
func uploadDestErr(dest string, err error) error {
	switch {
	case errors.Is(err, ErrIsDirectory):
		return uploadErr(ErrInvalidUpload, "%s is a directory", dest)
	case errors.Is(err, ErrNotDirectory):
		return uploadErr(ErrInvalidUpload, "cannot create the folder of %s: %v", dest, err)
	}
	return err
}
