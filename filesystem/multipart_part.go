package filesystem

import (
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/fnv"
	"io"
	"os"
	"path/filepath"
	"time"
)

// errPartTooLarge stops the copy of a part past the cap.
var errPartTooLarge = errors.New("part too large")

// partWriter hashes and stores the bytes of a part, and refuses more than
// max of them. It keeps the first error of its own, so that a failed copy
// tells the body's errors from the disk's.
type partWriter struct {
	sink *partSink
	sum  hash.Hash
	n    int64
	max  int64
	err  error
}

func (w *partWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.n+int64(len(p)) > w.max {
		w.err = errPartTooLarge
		return 0, w.err
	}
	n, err := w.sink.Write(p)
	w.sum.Write(p[:n])
	w.n += int64(n)
	if err != nil {
		w.err = err
	}
	return n, err
}

// putPart streams body to the part's slot or a new data file while
// hashing it (see openPartSink), then makes it the part's current version.
// The data file is not an AtomicFile: the record's rename (commitPart) is
// what publishes it. A form field (internal/formdata) writes itself out
// from its own buffer, with no copy into one of ours.
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
	sink, release, err := u.openPartSink(id, dir, number)
	defer release() // after the commit: the slot is held until its record says so
	if err != nil {
		return UploadedPart{}, u.folderErr(id, fmt.Errorf("store part %d of upload %s: %w", number, id, err))
	}
	w := &partWriter{sink: sink, sum: u.etags.New(), max: u.maxPart}
	if src, ok := body.(io.WriterTo); ok {
		_, err = src.WriteTo(w)
	} else {
		_, err = io.CopyBuffer(w, body, make([]byte, copyBufferSize))
	}
	n := w.n
	switch {
	case errors.Is(w.err, errPartTooLarge):
		sink.drop()
		return UploadedPart{}, uploadErr(ErrUploadPartTooLarge, "part %d is larger than %d bytes", number, u.maxPart)
	case err != nil && w.err == nil:
		sink.drop()
		return UploadedPart{}, fmt.Errorf("%w: %w", ErrUploadPartBody, err)
	case err != nil:
		sink.drop()
		return UploadedPart{}, fmt.Errorf("store part %d of upload %s: %w", number, id, err)
	}
	meta, err := sink.close(n)
	if err != nil {
		sink.drop()
		return UploadedPart{}, fmt.Errorf("store part %d of upload %s: %w", number, id, err)
	}
	meta.ETag = hex.EncodeToString(w.sum.Sum(nil))
	meta.UploadedAt = time.Now().UTC()
	if err := u.commitPart(id, dir, number, meta); err != nil {
		sink.drop()
		return UploadedPart{}, u.folderErr(id, err)
	}
	u.learnStride(dir, n)
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
	// A data file of its own is the version's alone; a slot is left for
	// its next writer.
	if old, ok := previous.dataPath(dir); prevErr == nil && ok && previous.Data != meta.Data && previous.Data != uploadAssemblyFile {
		_ = os.Remove(old)
	}
	return nil
}
