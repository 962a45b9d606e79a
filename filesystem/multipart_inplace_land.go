package filesystem

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// landInPlace lands the upload's assembly file itself at dest when the
// listed pieces lie end to end from its start, each in its slot: the
// parts kept in data files of their own are copied into their slots
// first, the file is cut after the last piece, and it lands through
// adoptAtomic with mode. landed is false, dest untouched, when the pieces
// do not lie so, the stride is unknown, a part past the last listed one
// lies in the file (cutting it would lose it, and the upload lives on if
// landing fails), or the file cannot be linked beside dest: the caller
// then copies the pieces. Only while the upload is sealed and quiet (see
// slotClaims.seal): no one else writes into its slots.
func (u *uploads) landInPlace(dir, dest string, mode fs.FileMode, pieces []partPiece) (landed bool, err error) {
	stride, ok := uploadStride(dir)
	if !ok {
		return false, nil
	}
	asmPath := filepath.Join(dir, uploadAssemblyFile)
	var fill []partPiece
	var end int64
	for _, p := range pieces {
		slot := int64(p.number-1) * stride
		switch {
		case slot != end:
			return false, nil // a gap, or a part before that is not a stride long
		case p.path == asmPath && p.off == slot:
		case p.path != asmPath && p.size <= stride:
			fill = append(fill, p)
		default:
			return false, nil
		}
		end += p.size
	}
	if u.partsInPlacePast(dir, pieces[len(pieces)-1].number) {
		return false, nil
	}
	f, err := os.OpenFile(asmPath, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return false, fmt.Errorf("write %s: %w", dest, diskError(err))
	}
	if err := fillSlots(f, fill, stride, end); err != nil {
		_ = f.Close()
		return false, err
	}
	a, ok, err := adoptAtomic(u.writes, u.user, f, asmPath, dest)
	if err != nil || !ok {
		_ = f.Close()
		return false, err
	}
	defer a.Abort()
	// The upload's mode always applies, as it was recorded at initiate,
	// even over an existing file.
	if err := a.Commit(&mode); err != nil {
		return false, err
	}
	// The upload's own link goes at once, before the upload itself: were
	// its removal to fail, no part could be written into the landed file.
	_ = os.Remove(asmPath)
	return true, nil
}

// fillSlots copies the pieces into their slots of f and cuts f at end.
func fillSlots(f *os.File, fill []partPiece, stride, end int64) error {
	for _, p := range fill {
		src, err := os.Open(p.path)
		if errors.Is(err, fs.ErrNotExist) {
			return uploadErr(ErrInvalidUpload, "part %d of the list was replaced or removed while completing", p.number)
		}
		if err != nil {
			return fmt.Errorf("read part %d: %w", p.number, err)
		}
		err = copyRange(f, int64(p.number-1)*stride, src, p.off, p.size)
		_ = src.Close()
		if err != nil {
			return fmt.Errorf("copy part %d into place: %w", p.number, diskError(err))
		}
	}
	if err := f.Truncate(end); err != nil {
		return fmt.Errorf("cut the assembled file: %w", diskError(err))
	}
	return nil
}

// partsInPlacePast tells whether a part numbered above last has its
// current version in the assembly file (or cannot be told).
func (u *uploads) partsInPlacePast(dir string, last int) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return true
	}
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".json")
		n, err := strconv.Atoi(num)
		if !ok || len(num) != 5 || err != nil || n <= last {
			continue
		}
		var m partMeta
		if err := uploadReadJSON(filepath.Join(dir, e.Name()), &m); err != nil || m.Data == uploadAssemblyFile {
			return true
		}
	}
	return false
}
