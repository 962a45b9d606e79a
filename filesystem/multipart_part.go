package filesystem

import (
	"crypto/md5"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"time"
)

// partBodyReader tags the body's read errors, so they are not taken for
// the disk's.
type partBodyReader struct{ r io.Reader }

func (p partBodyReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", ErrUploadPartBody, err)
	}
	return n, err
}

// putPart streams body to a new data file while hashing it, then makes it
// the part's current version. The data file is not an AtomicFile: the
// record's rename (commitPart) is what publishes it.
func (u *uploads) putPart(id string, number int, body io.Reader) (UploadedPart, error) {
	if err := uploadCheckID(id); err != nil {
		return UploadedPart{}, err
	}
	if err := uploadCheckPartNumber(number); err != nil {
		return UploadedPart{}, err
	}
	dir, _, err := u.open(id)
	if err != nil {
		return UploadedPart{}, err
	}
	dataName := fmt.Sprintf("%05d.%s.data", number, uploadRandomHex(8))
	dataPath := filepath.Join(dir, dataName)
	f, err := os.OpenFile(dataPath, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return UploadedPart{}, u.folderErr(id, fmt.Errorf("store part %d of upload %s: %w", number, id, err))
	}
	committed := false
	defer func() {
		if !committed {
			_ = os.Remove(dataPath)
		}
	}()

	sum := md5.New()
	buf := make([]byte, copyBufferSize)
	// One byte past the cap tells a part that is too large from one that
	// is exactly at it.
	src := io.LimitReader(partBodyReader{body}, u.maxPart+1)
	n, err := io.CopyBuffer(io.MultiWriter(f, sum), src, buf)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	switch {
	case err != nil && errors.Is(err, ErrUploadPartBody):
		return UploadedPart{}, err
	case err != nil:
		return UploadedPart{}, fmt.Errorf("store part %d of upload %s: %w", number, id, err)
	case n > u.maxPart:
		return UploadedPart{}, uploadErr(ErrUploadPartTooLarge, "part %d is larger than %d bytes", number, u.maxPart)
	}

	meta := partMeta{Data: dataName, ETag: hex.EncodeToString(sum.Sum(nil)), Size: n, UploadedAt: time.Now().UTC()}
	if err := u.commitPart(id, dir, number, meta); err != nil {
		return UploadedPart{}, u.folderErr(id, err)
	}
	committed = true
	return UploadedPart{Number: number, ETag: meta.ETag, Size: n, UploadedAt: meta.UploadedAt}, nil
}

// commitPart makes meta the current version of part number and removes the
// data of the version it replaces, which no part record names any more.
// Commits of one part are serialized, so that with versions racing each
// replaced one is removed exactly once; the bytes were streamed before, so
// the lock is held only for a rename.
func (u *uploads) commitPart(id, dir string, number int, meta partMeta) error {
	h := fnv.New32a()
	_, _ = io.WriteString(h, id)
	lock := &u.commits[(h.Sum32()+uint32(number))%uint32(len(u.commits))]
	lock.Lock()
	defer lock.Unlock()
	name := uploadPartFile(number)
	var previous partMeta
	prevErr := uploadReadJSON(filepath.Join(dir, name), &previous)
	if err := uploadWriteJSON(dir, name, meta); err != nil {
		return err
	}
	if old, ok := previous.dataPath(dir); prevErr == nil && ok && previous.Data != meta.Data {
		_ = os.Remove(old)
	}
	return nil
}
