package filesystem

// The on-disk store of multipart uploads. Each upload is a folder under
// Config.UploadDir,
//
//	<UploadDir>/<uploadId>/upload.json          destination, permissions, start time
//	<UploadDir>/<uploadId>/00007.json           the current version of part 7
//	<UploadDir>/<uploadId>/00007.<random>.data  its bytes, or
//	<UploadDir>/<uploadId>/assembly.data        its slot there (multipart_inplace.go)
//
// A part's bytes go to a data file of their own, never reused, or to its
// slot in the assembly file when that is free; the part's JSON file,
// replaced by an atomic rename, is what makes a version current. So a
// re-sent part replaces the old one atomically, parallel parts never share
// bytes, and whoever reads a part's JSON finds data that matches its etag.
// All state being on disk, an upload survives a daemon restart (not a
// machine crash: parts are not fsynced, only the assembled file is).

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"go.uber.org/zap"

	"github.com/sandbox-api/sandbox-api/internal/md5lanes"
	"github.com/sandbox-api/sandbox-api/internal/runas"
)

const (
	uploadMetaFile = "upload.json"
	// Staging names never pass uploadCheckID, so lookups ignore them.
	uploadStagingPrefix = ".init-"
	uploadTrashPrefix   = ".trash-"
)

// uploadMeta is upload.json. Permissions stay Unix bits there, so uploads
// written by an earlier daemon still read.
type uploadMeta struct {
	Path        string    `json:"path"`
	Permissions uint32    `json:"permissions"`
	InitiatedAt time.Time `json:"initiatedAt"`
}

// partMeta is the JSON file of a part's current version: its bytes are
// Size bytes at Offset of the data file.
type partMeta struct {
	Data       string    `json:"data"` // name of the data file in the upload folder
	Offset     int64     `json:"offset,omitempty"`
	ETag       string    `json:"etag"`
	Size       int64     `json:"size"`
	UploadedAt time.Time `json:"uploadedAt"`
}

// dataPath is the part's data file in dir; false for a record that names
// none, or names something outside dir.
func (m partMeta) dataPath(dir string) (string, bool) {
	if m.Data == "" || filepath.Base(m.Data) != m.Data {
		return "", false
	}
	return filepath.Join(dir, m.Data), true
}

func uploadPartFile(n int) string { return fmt.Sprintf("%05d.json", n) }

// uploads is the store of multipart uploads under one folder.
type uploads struct {
	root    string
	ttl     time.Duration
	maxPart int64 // MaxUploadPartSize; smaller in tests
	max     int   // uploads open at once (Config.MaxUploads)
	// initiating serializes initiates, so that two cannot both take the
	// last place under max.
	initiating sync.Mutex
	// commits serializes the commits of one part (striped by upload and
	// part number); see commitPart.
	commits [64]sync.Mutex
	// completing serializes the completes of one upload (striped by id).
	completing [16]sync.Mutex
	// claims: who writes into assembly files now (multipart_inplace.go).
	claims *slotClaims
	// minStride is the smallest part that sets an upload's stride
	// (defaultMinStride; smaller in tests).
	minStride int64
	writes    *inflightWrites // assembles land through it (see AtomicFile)
	// etags hashes the parts that stream in at the same time together
	// (internal/md5lanes): the etag is each part's MD5.
	etags *md5lanes.Pool
	user  *runas.User // destinations are checked and written as this user
	log   *zap.Logger
	// The sweep's lifecycle (see sweepLoop).
	stop   context.CancelFunc
	done   chan struct{}
	closed sync.Once
}

func newUploads(cfg Config) (*uploads, error) {
	if err := os.MkdirAll(cfg.UploadDir, 0o700); err != nil {
		return nil, fmt.Errorf("filesystem: upload folder %s: %w", cfg.UploadDir, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	u := &uploads{
		root:      cfg.UploadDir,
		ttl:       cfg.UploadTTL,
		maxPart:   MaxUploadPartSize,
		claims:    newSlotClaims(),
		etags:     md5lanes.NewPool(),
		minStride: defaultMinStride,
		max:       cfg.MaxUploads,
		log:       cfg.Logger,
		user:      cfg.User,
		stop:      cancel,
		done:      make(chan struct{}),
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

// uploadParsePermissions reads the mode as ParsePermissions does, into
// the Unix bits an upload keeps; "" is DefaultUploadPermissions.
func uploadParsePermissions(s string) (uint32, error) {
	if s == "" {
		return DefaultUploadPermissions, nil
	}
	m, err := ParsePermissions(s)
	if err != nil {
		return 0, uploadErr(ErrInvalidUpload, "invalid permissions %q: want an octal mode such as 0644", uploadQuote(s))
	}
	return unixMode(m), nil
}

func (u *uploads) initiate(dest, permissions string) (MultipartUpload, error) {
	perm, err := uploadParsePermissions(permissions)
	if err != nil {
		return MultipartUpload{}, err
	}
	leave := u.user.Enter() // what the user cannot see is not a directory to it
	destIsDir := isDir(dest)
	leave()
	if destIsDir {
		return MultipartUpload{}, uploadErr(ErrInvalidUpload, "%s is a directory", dest)
	}
	if err := refuseSpecial(dest); err != nil {
		return MultipartUpload{}, err
	}
	u.initiating.Lock()
	defer u.initiating.Unlock()
	if err := u.checkRoom(); err != nil {
		return MultipartUpload{}, err
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

// checkRoom answers ErrTooManyUploads when u.max uploads are open. They
// are counted on disk, where they live: uploads left by an earlier daemon
// count, and completed, aborted or expired ones stop counting at once.
func (u *uploads) checkRoom() error {
	entries, err := os.ReadDir(u.root)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("count the uploads in %s: %w", u.root, err)
	}
	open := 0
	for _, e := range entries {
		if uploadCheckID(e.Name()) == nil {
			open++
		}
	}
	if open >= u.max {
		return uploadErr(ErrTooManyUploads, "%d multipart uploads are open, the most allowed: complete or abort one first (uploads untouched for %s are removed)", open, u.ttl)
	}
	return nil
}

// uploadWriteJSON replaces dir/name with v's JSON in one rename. Not an
// AtomicFile: records are written once per part and, like parts, not
// fsynced; they have no owner or mode to keep.
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
