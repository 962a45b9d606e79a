package server

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/formdata"
)

const (
	// maxFileJSONBody bounds PUT with a JSON body ({content}): the body
	// and its decoded content are held in memory.
	maxFileJSONBody = 32 << 20
	// maxUploadBody bounds a streamed upload (raw or multipart). It only
	// stops runaway bodies: the disk is the real limit. A stalled upload
	// is cut by guardBody.
	maxUploadBody = 64 << 30
	// maxFormField bounds the small form fields of a multipart upload.
	maxFormField = 4 << 10
)

// put is PUT /filesystem/{path}: a JSON body ({content, isDirectory,
// permissions}), a multipart form with a file field, or raw bytes.
func (h *filesystemHandlers) put(w http.ResponseWriter, r *http.Request) {
	p, ok := clientPath(w, r, filesystemPrefix)
	if !ok {
		return
	}
	mediaType := ""
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil {
			writeError(w, http.StatusBadRequest, "invalid Content-Type: "+err.Error())
			return
		}
		mediaType = mt
	}
	switch mediaType {
	case "", "application/json":
		h.putJSON(w, r, p)
	case "multipart/form-data":
		h.putMultipart(w, r, p)
	case "application/octet-stream":
		h.putRaw(w, r, p)
	default:
		writeError(w, http.StatusUnsupportedMediaType, "unsupported Content-Type "+strconv.Quote(mediaType)+
			": send application/json, multipart/form-data or application/octet-stream")
	}
}

// fileRequest is FileRequest.
type fileRequest struct {
	Content     string `json:"content"`
	IsDirectory bool   `json:"isDirectory"`
	Permissions string `json:"permissions"`
}

func (h *filesystemHandlers) putJSON(w http.ResponseWriter, r *http.Request, p string) {
	var req fileRequest
	if !decodeJSON(w, r, maxFileJSONBody, &req, false) {
		return
	}
	mode, ok := permissionsParam(w, req.Permissions)
	if !ok {
		return
	}
	if req.IsDirectory {
		abs, err := h.fs.Mkdir(p, mode)
		if err != nil {
			fileRoutes.writeFailure(w, err)
			return
		}
		writeJSON(w, http.StatusOK, successJSON{Path: abs, Message: msgDirectoryCreated})
		return
	}
	abs, err := h.fs.WriteFile(p, strings.NewReader(req.Content), mode)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successJSON{Path: abs, Message: msgFileWritten})
}

// putRaw streams the body to the file; ?permissions= sets the mode.
func (h *filesystemHandlers) putRaw(w http.ResponseWriter, r *http.Request, p string) {
	mode, ok := permissionsParam(w, r.URL.Query().Get("permissions"))
	if !ok {
		return
	}
	body, ok := uploadBody(w, r)
	if !ok {
		return
	}
	abs, err := h.fs.WriteFile(p, body, mode)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successJSON{Path: abs, Message: msgFileWritten})
}

// putMultipart streams the form's file field to disk as it arrives (never
// ParseMultipartForm, which would buffer it), in large writes straight
// from the form reader's buffer (see formBody). The optional permissions and
// path fields may come after the file, so the file is committed at the
// end. A path field names the destination: the SDK's writeBinary pastes
// the path into the URL unencoded, so a "#", "?" or "%" in a name cuts or
// alters the URL path, while the field carries it intact.
func (h *filesystemHandlers) putMultipart(w http.ResponseWriter, r *http.Request, p string) {
	body, ok := uploadBody(w, r)
	if !ok {
		return
	}
	mr, err := formBody(r, body)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid multipart body: "+err.Error())
		return
	}
	var (
		file              *filesystem.AtomicFile
		permissions, dest string
	)
	defer func() {
		if file != nil {
			file.Abort()
		}
	}()
	for {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			fileRoutes.writeFailure(w, fmt.Errorf("%w: invalid multipart body: %w", filesystem.ErrSourceRead, err))
			return
		}
		switch part.FormName() {
		case "file":
			if file != nil {
				writeError(w, http.StatusBadRequest, "the form has more than one file field")
				return
			}
			target := p
			if dest != "" {
				target = dest
			}
			if file, err = h.fs.CreateAtomic(h.fs.Resolve(target)); err != nil {
				fileRoutes.writeFailure(w, err)
				return
			}
			if _, err := file.ReadFrom(part); err != nil {
				fileRoutes.writeFailure(w, err)
				return
			}
		case "permissions":
			if permissions, ok = formField(w, part); !ok {
				return
			}
		case "path":
			if dest, ok = formField(w, part); !ok {
				return
			}
		default:
			if _, err := io.Copy(io.Discard, part); err != nil {
				fileRoutes.writeFailure(w, fmt.Errorf("%w: %w", filesystem.ErrSourceRead, err))
				return
			}
		}
	}
	if file == nil {
		writeError(w, http.StatusBadRequest, "the form has no file field")
		return
	}
	mode, ok := permissionsParam(w, permissions)
	if !ok {
		return
	}
	abs := file.Dest()
	if dest != "" {
		abs = h.fs.Resolve(dest)
	}
	if err := file.CommitAs(abs, mode); err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successJSON{Path: abs, Message: msgBinaryUploaded})
}

// formField reads a small form field.
func formField(w http.ResponseWriter, part *formdata.Part) (string, bool) {
	data, err := io.ReadAll(io.LimitReader(part, maxFormField+1))
	if err != nil {
		fileRoutes.writeFailure(w, fmt.Errorf("%w: %w", filesystem.ErrSourceRead, err))
		return "", false
	}
	if len(data) > maxFormField {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("form field %q is longer than %d bytes", part.FormName(), maxFormField))
		return "", false
	}
	return string(data), true
}

// permissionsParam parses an optional octal mode; "" is nil (keep the
// current mode, or the default for a new file).
func permissionsParam(w http.ResponseWriter, s string) (*fs.FileMode, bool) {
	if s == "" {
		return nil, true
	}
	m, err := filesystem.ParsePermissions(s)
	if err != nil {
		fileRoutes.writeFailure(w, err) // ErrInvalidPermissions
		return nil, false
	}
	return &m, true
}

// uploadBody is the body of a streamed upload, capped at maxUploadBody; a
// declared length over the cap is refused before anything is read.
func uploadBody(w http.ResponseWriter, r *http.Request) (io.ReadCloser, bool) {
	if r.ContentLength > maxUploadBody {
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("request body is larger than %d bytes", int64(maxUploadBody)))
		return nil, false
	}
	return http.MaxBytesReader(w, r.Body, maxUploadBody), true
}
