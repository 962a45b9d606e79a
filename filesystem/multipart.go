package filesystem

// Multipart uploads: a large file arrives as numbered parts, possibly out of
// order, in parallel and more than once, and is assembled when the client
// completes the upload. Nothing is held in memory: each upload is a folder
// under Config.UploadDir,
//
//	<UploadDir>/<uploadId>/upload.json          destination, permissions, start time
//	<UploadDir>/<uploadId>/00007.json           the current version of part 7
//	<UploadDir>/<uploadId>/00007.<random>.data  its bytes
//
// A part's bytes go to a data file of their own, never reused; the part's
// JSON file, replaced by an atomic rename, is what makes a version current.
// So a re-sent part replaces the old one atomically, parallel parts never
// share a file, and whoever reads a part's JSON finds data that matches its
// etag. All state being on disk, an upload survives a daemon restart (not
// a machine crash: parts are not fsynced, only the assembled file is); one
// untouched for UploadTTL is removed.

import (
	"context"
	"crypto/md5"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"go.uber.org/zap"
)

const (
	// MaxUploadPartSize caps one part, like S3's.
	MaxUploadPartSize = 5 << 30
	// MaxUploadPartNumber is the highest part number; the lowest is 1.
	MaxUploadPartNumber = 10000
	// DefaultUploadPermissions applies when an upload names none.
	DefaultUploadPermissions = 0o644
)

// Errors of the multipart API; test them with errors.Is. Their messages
// are meant for the client.
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
	return f.uploads.initiate(f.Resolve(path), permissions)
}

// UploadPart stores part number of upload id from body, replacing an
// earlier version of that part. body is read to its end.
func (f *FS) UploadPart(id string, number int, body io.Reader) (UploadedPart, error) {
	return f.uploads.putPart(id, number, body)
}

// CompleteUpload checks the listed parts against the uploaded ones,
// assembles them in part-number order into the destination, atomically,
// and removes the upload. It returns the destination path.
func (f *FS) CompleteUpload(id string, parts []CompletedPart) (string, error) {
	return f.uploads.complete(id, parts)
}

// AbortUpload removes an upload and its parts.
func (f *FS) AbortUpload(id string) error { return f.uploads.abort(id) }

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

// uploadMeta is upload.json.
type uploadMeta struct {
	Path        string    `json:"path"`
	Permissions uint32    `json:"permissions"`
	InitiatedAt time.Time `json:"initiatedAt"`
}

// partMeta is the JSON file of a part's current version.
type partMeta struct {
	Data       string    `json:"data"` // name of the data file in the upload folder
	ETag       string    `json:"etag"`
	Size       int64     `json:"size"`
	UploadedAt time.Time `json:"uploadedAt"`
}

const (
	uploadMetaFile = "upload.json"
	// Staging names never pass uploadCheckID, so lookups ignore them.
	uploadStagingPrefix = ".init-"
	uploadTrashPrefix   = ".trash-"
	// uploadCopyBuffer is the buffer of a part's copy to disk.
	uploadCopyBuffer = 256 << 10
)

// uploads is the store of multipart uploads under one folder.
type uploads struct {
	root    string
	ttl     time.Duration
	maxPart int64 // MaxUploadPartSize; smaller in tests
	// commits serializes the commits of one part (striped by upload and
	// part number); see commitPart.
	commits [64]sync.Mutex
	log     *zap.Logger
	stop    context.CancelFunc
	done    chan struct{}
	closed  sync.Once
}

func newUploads(cfg Config) (*uploads, error) {
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("filesystem: upload folder %s: %w", cfg.UploadDir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &uploads{
		root:    cfg.UploadDir,
		ttl:     cfg.UploadTTL,
		maxPart: MaxUploadPartSize,
		log:     cfg.Logger,
		stop:    cancel,
		done:    make(chan struct{}),
	}
	go u.sweepLoop(ctx)
	return u, nil
}

// close stops the sweep and waits for it.
func (u *uploads) close() {
	u.closed.Do(func() {
		u.stop()
		<-u.done
	})
}

// uploadSweepInterval is how often expired uploads are looked for: often
// enough that an upload outlives its TTL by at most a quarter of it.
func uploadSweepInterval(ttl time.Duration) time.Duration {
	return min(max(ttl/4, 10*time.Millisecond), 10*time.Minute)
}

func (u *uploads) sweepLoop(ctx context.Context) {
	defer close(u.done)
	tick := time.NewTicker(uploadSweepInterval(u.ttl))
	defer tick.Stop()
	for {
		u.sweep() // at once too: uploads left by an earlier daemon
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// sweep removes every entry of the upload folder (uploads, and staging
// folders left by a crash) untouched for longer than the TTL. An upload
// folder's modification time moves with each part stored in it.
func (u *uploads) sweep() {
	entries, err := os.ReadDir(u.root)
	if err != nil {
		u.log.Warn("list uploads to expire", zap.Error(err))
		return
	}
	cutoff := time.Now().Add(-u.ttl)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			continue
		}
		if err := u.remove(e.Name()); err != nil {
			u.log.Warn("remove an expired upload", zap.String("upload", e.Name()), zap.Error(err))
			continue
		}
		u.log.Info("removed an expired upload", zap.String("upload", e.Name()))
	}
}

// remove takes an entry of the upload folder out of sight with one rename,
// then deletes it, so no one sees half an upload.
func (u *uploads) remove(name string) error {
	src := filepath.Join(u.root, name)
	if strings.HasPrefix(name, uploadTrashPrefix) {
		return os.RemoveAll(src)
	}
	trash := filepath.Join(u.root, uploadTrashPrefix+name+"-"+uploadRandomHex(4))
	if err := os.Rename(src, trash); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return uploadErr(ErrUploadNotFound, "upload %s not found", name)
		}
		return fmt.Errorf("remove upload %s: %w", name, err)
	}
	if err := os.RemoveAll(trash); err != nil {
		return fmt.Errorf("remove upload %s: %w", name, err)
	}
	return nil
}

// newUploadID is a random UUID (version 4): 122 random bits, the form the
// API's examples show.
func newUploadID() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go ≥ 1.24)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b[:])
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// uploadCheckID accepts only the form newUploadID makes (lower-case hex
// UUID), before the id is used in any path.
func uploadCheckID(id string) error {
	ok := len(id) == 36
	for i := 0; ok && i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			ok = c == '-'
		default:
			ok = '0' <= c && c <= '9' || 'a' <= c && c <= 'f'
		}
	}
	if !ok {
		return uploadErr(ErrInvalidUpload, "invalid upload id %q", uploadQuote(id))
	}
	return nil
}

// uploadQuote bounds what of a client's string goes back into a message.
func uploadQuote(s string) string {
	if len(s) > 64 {
		return s[:64] + "..."
	}
	return s
}

func uploadRandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uploadCheckPartNumber(n int) error {
	if n < 1 || n > MaxUploadPartNumber {
		return uploadErr(ErrInvalidUpload, "invalid part number %d: must be between 1 and %d", n, MaxUploadPartNumber)
	}
	return nil
}

// uploadParsePermissions reads an octal mode such as "0644" or "755".
func uploadParsePermissions(s string) (uint32, error) {
	if s == "" {
		return DefaultUploadPermissions, nil
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil || v > 0o7777 {
		return 0, uploadErr(ErrInvalidUpload, "invalid permissions %q: want an octal mode such as 0644", uploadQuote(s))
	}
	return uint32(v), nil
}

// uploadFileMode turns Unix permission bits into an fs.FileMode.
func uploadFileMode(perm uint32) fs.FileMode {
	m := fs.FileMode(perm & 0o777)
	if perm&0o4000 != 0 {
		m |= fs.ModeSetuid
	}
	if perm&0o2000 != 0 {
		m |= fs.ModeSetgid
	}
	if perm&0o1000 != 0 {
		m |= fs.ModeSticky
	}
	return m
}

func uploadPartFile(n int) string { return fmt.Sprintf("%05d.json", n) }

func (u *uploads) initiate(dest, permissions string) (MultipartUpload, error) {
	perm, err := uploadParsePermissions(permissions)
	if err != nil {
		return MultipartUpload{}, err
	}
	if info, err := os.Stat(dest); err == nil && info.IsDir() {
		return MultipartUpload{}, uploadErr(ErrInvalidUpload, "%s is a directory", dest)
	}
	id := newUploadID()
	meta := uploadMeta{Path: dest, Permissions: perm, InitiatedAt: time.Now().UTC()}
	// Built aside and renamed into place: an upload folder always has its
	// upload.json.
	staging := filepath.Join(u.root, uploadStagingPrefix+id)
	if err := os.MkdirAll(u.root, 0o700); err != nil { // the folder may have been removed under us
		return MultipartUpload{}, fmt.Errorf("create upload folder %s: %w", u.root, err)
	}
	if err := os.Mkdir(staging, 0o700); err != nil {
		return MultipartUpload{}, fmt.Errorf("create upload %s: %w", id, err)
	}
	if err := uploadWriteJSON(staging, uploadMetaFile, meta); err != nil {
		_ = os.RemoveAll(staging)
		return MultipartUpload{}, err
	}
	if err := os.Rename(staging, filepath.Join(u.root, id)); err != nil {
		_ = os.RemoveAll(staging)
		return MultipartUpload{}, fmt.Errorf("create upload %s: %w", id, err)
	}
	return MultipartUpload{ID: id, Path: dest, Permissions: perm, InitiatedAt: meta.InitiatedAt}, nil
}

// uploadWriteJSON replaces dir/name with v's JSON in one rename.
func uploadWriteJSON(dir, name string, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(dir, "."+name+".*.tmp")
	if err != nil {
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	_, werr := tmp.Write(data)
	cerr := tmp.Close()
	if err := errors.Join(werr, cerr); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, name)); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("write %s: %w", filepath.Join(dir, name), err)
	}
	return nil
}

// uploadReadJSON decodes the JSON file at path; a missing file keeps
// fs.ErrNotExist.
func uploadReadJSON(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fmt.Errorf("decode %s: %w", path, err)
	}
	return nil
}

// open checks id and reads the upload's metadata; it returns the upload's
// folder.
func (u *uploads) open(id string) (string, uploadMeta, error) {
	var meta uploadMeta
	if err := uploadCheckID(id); err != nil {
		return "", meta, err
	}
	dir := filepath.Join(u.root, id)
	if err := uploadReadJSON(filepath.Join(dir, uploadMetaFile), &meta); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return "", meta, uploadErr(ErrUploadNotFound, "upload %s not found", id)
		}
		return "", meta, fmt.Errorf("read upload %s: %w", id, err)
	}
	return dir, meta, nil
}

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
	buf := make([]byte, uploadCopyBuffer)
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
	if prevErr == nil && previous.Data != "" && previous.Data != meta.Data && filepath.Base(previous.Data) == previous.Data {
		_ = os.Remove(filepath.Join(dir, previous.Data))
	}
	return nil
}

// folderErr turns a failure caused by the upload's folder vanishing (an
// abort, completion or expiry meanwhile) into ErrUploadNotFound.
func (u *uploads) folderErr(id string, err error) error {
	if _, serr := os.Stat(filepath.Join(u.root, id, uploadMetaFile)); errors.Is(serr, fs.ErrNotExist) {
		return uploadErr(ErrUploadNotFound, "upload %s not found (completed, aborted or expired)", id)
	}
	return err
}

// parts lists the current parts in an upload folder, by number.
func (u *uploads) parts(dir string) ([]UploadedPart, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, uploadErr(ErrUploadNotFound, "upload %s not found", filepath.Base(dir))
		}
		return nil, fmt.Errorf("list parts of upload %s: %w", filepath.Base(dir), err)
	}
	out := []UploadedPart{}
	for _, e := range entries {
		num, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || len(num) != 5 {
			continue
		}
		n, err := strconv.Atoi(num)
		if err != nil || uploadCheckPartNumber(n) != nil {
			continue
		}
		var m partMeta
		if err := uploadReadJSON(filepath.Join(dir, e.Name()), &m); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // the upload went away meanwhile
			}
			return nil, fmt.Errorf("list parts of upload %s: %w", filepath.Base(dir), err)
		}
		out = append(out, UploadedPart{Number: n, ETag: m.ETag, Size: m.Size, UploadedAt: m.UploadedAt})
	}
	// ReadDir sorts by name, and names are zero-padded numbers.
	return out, nil
}

func (u *uploads) list() ([]MultipartUpload, error) {
	entries, err := os.ReadDir(u.root)
	if err != nil {
		return nil, fmt.Errorf("list uploads in %s: %w", u.root, err)
	}
	out := []MultipartUpload{}
	for _, e := range entries {
		if uploadCheckID(e.Name()) != nil {
			continue
		}
		dir, meta, err := u.open(e.Name())
		if errors.Is(err, ErrUploadNotFound) {
			continue // completed or aborted meanwhile
		}
		if err != nil {
			return nil, err
		}
		parts, err := u.parts(dir)
		if errors.Is(err, ErrUploadNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		out = append(out, MultipartUpload{
			ID: e.Name(), Path: meta.Path, Permissions: meta.Permissions,
			InitiatedAt: meta.InitiatedAt, Parts: parts,
		})
	}
	slices.SortStableFunc(out, func(a, b MultipartUpload) int { return a.InitiatedAt.Compare(b.InitiatedAt) })
	return out, nil
}

func (u *uploads) abort(id string) error {
	if _, _, err := u.open(id); err != nil {
		return err
	}
	return u.remove(id)
}

// uploadNormalizeETag accepts an etag as S3 clients send it too: quoted,
// in any case.
func uploadNormalizeETag(s string) string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(s), `"`))
}

// checkParts matches the client's list with the stored parts and returns
// the data files to assemble, in order.
func (u *uploads) checkParts(dir string, listed []CompletedPart) ([]string, error) {
	if len(listed) == 0 {
		return nil, uploadErr(ErrInvalidUpload, "no parts to complete the upload with")
	}
	sorted := slices.Clone(listed)
	slices.SortFunc(sorted, func(a, b CompletedPart) int { return a.Number - b.Number })
	files := make([]string, 0, len(sorted))
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
		if filepath.Base(m.Data) != m.Data || m.Data == "" {
			return nil, fmt.Errorf("part %d: corrupt part record", p.Number)
		}
		files = append(files, filepath.Join(dir, m.Data))
	}
	return files, nil
}

func (u *uploads) complete(id string, listed []CompletedPart) (string, error) {
	dir, meta, err := u.open(id)
	if err != nil {
		return "", err
	}
	files, err := u.checkParts(dir, listed)
	if err != nil {
		return "", err
	}
	dest := meta.Path
	if err := uploadAssemble(dest, uploadFileMode(meta.Permissions), files); err != nil {
		return "", err
	}
	if err := u.remove(id); err != nil && !errors.Is(err, ErrUploadNotFound) {
		// The file is in place; the leftover parts are the sweep's.
		u.log.Warn("remove a completed upload", zap.String("upload", id), zap.Error(err))
	}
	return dest, nil
}

// uploadAssemble streams the files, in order, into a temporary file beside
// dest, syncs it and renames it over dest: dest is either untouched or
// complete.
func uploadAssemble(dest string, mode fs.FileMode, files []string) error {
	if info, err := os.Stat(dest); err == nil && info.IsDir() {
		return uploadErr(ErrInvalidUpload, "%s is a directory", dest)
	}
	parent := filepath.Dir(dest)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		if errors.Is(err, syscall.ENOTDIR) || errors.Is(err, fs.ErrExist) {
			return uploadErr(ErrInvalidUpload, "cannot create the folder of %s: %v", dest, err)
		}
		return fmt.Errorf("create %s: %w", parent, err)
	}
	tmp, err := os.CreateTemp(parent, "."+filepath.Base(dest)+".upload-*")
	if err != nil {
		return fmt.Errorf("create a temporary file in %s: %w", parent, err)
	}
	done := false
	defer func() {
		if !done {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	for i, name := range files {
		if err := uploadAppend(tmp, name); err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return uploadErr(ErrInvalidUpload, "part %d of the list was replaced or removed while completing", i+1)
			}
			return fmt.Errorf("assemble %s: %w", dest, err)
		}
	}
	// Chmod, not the create mode: the umask must not narrow what was asked.
	if err := tmp.Chmod(mode); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp.Name(), err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("rename into %s: %w", dest, err)
	}
	done = true
	// The rename itself is durable only once the folder is synced.
	if d, err := os.Open(parent); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}

// uploadAppend copies one part to the end of dst (copy_file_range where the
// kernel offers it).
func uploadAppend(dst *os.File, name string) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	if _, err := io.Copy(dst, src); err != nil {
		return fmt.Errorf("copy %s: %w", name, err)
	}
	return nil
}
