package server

// Large uploads, /filesystem-multipart/...: thin translation between HTTP
// and the multipart store of package filesystem.

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// multipartFormOverhead is what a part's body may carry besides the part
// itself: boundaries, headers, small form fields.
const multipartFormOverhead = 1 << 20

// Wire shapes of openapi.yml.
type (
	multipartInitiateRequest struct {
		Permissions string `json:"permissions"`
	}
	multipartInitiateResponse struct {
		UploadID string `json:"uploadId"`
		Path     string `json:"path"`
	}
	// multipartPartResponse is MultipartUploadPartResponse, what a part
	// upload answers.
	multipartPartResponse struct {
		PartNumber int    `json:"partNumber"`
		ETag       string `json:"etag"`
		Size       int64  `json:"size"`
	}
	// multipartPartJSON is filesystem.UploadedPart, a part in the lists.
	multipartPartJSON struct {
		PartNumber int    `json:"partNumber"`
		ETag       string `json:"etag"`
		Size       int64  `json:"size"`
		UploadedAt string `json:"uploadedAt"`
	}
	multipartCompleteRequest struct {
		Parts []struct {
			PartNumber int    `json:"partNumber"`
			ETag       string `json:"etag"`
			Size       int64  `json:"size"`
		} `json:"parts"`
	}
	multipartPartsResponse struct {
		UploadID string              `json:"uploadId"`
		Parts    []multipartPartJSON `json:"parts"`
	}
	multipartUploadJSON struct {
		UploadID    string                       `json:"uploadId"`
		Path        string                       `json:"path"`
		Permissions uint32                       `json:"permissions"`
		InitiatedAt string                       `json:"initiatedAt"`
		Parts       map[string]multipartPartJSON `json:"parts"`
	}
	multipartUploadsResponse struct {
		Uploads []multipartUploadJSON `json:"uploads"`
	}
)

func multipartPartWire(p filesystem.UploadedPart) multipartPartJSON {
	return multipartPartJSON{
		PartNumber: p.Number, ETag: p.ETag, Size: p.Size,
		UploadedAt: p.UploadedAt.UTC().Format(time.RFC3339Nano),
	}
}

// multipartBadRequest is a 400 whose message is msg alone.
type multipartBadRequest string

func (e multipartBadRequest) Error() string { return string(e) }
func (e multipartBadRequest) Unwrap() error { return filesystem.ErrInvalidUpload }

func multipartFail(w http.ResponseWriter, err error) {
	msg := err.Error()
	if errors.Is(err, filesystem.ErrTooManyUploads) {
		msg += " (the bound is --max-uploads)"
	}
	writeError(w, multipartRoutes.statusOf(err), msg)
}

func (h *filesystemHandlers) multipartInitiate(w http.ResponseWriter, r *http.Request) {
	path, err := pathAfter(r, multipartInitiatePrefix)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	var req multipartInitiateRequest
	if !decodeJSON(w, r, maxSmallBody, &req, true) {
		return
	}
	up, err := h.fs.InitiateUpload(path, req.Permissions)
	if err != nil {
		multipartFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, multipartInitiateResponse{UploadID: up.ID, Path: up.Path})
}

func (h *filesystemHandlers) multipartPart(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "uploadId")
	raw := r.URL.Query().Get("partNumber")
	number, err := strconv.Atoi(raw)
	if err != nil {
		writeError(w, http.StatusBadRequest, fmt.Sprintf("invalid partNumber %q: must be an integer between 1 and %d", multipartQuote(raw), filesystem.MaxUploadPartNumber))
		return
	}
	const limit = filesystem.MaxUploadPartSize + multipartFormOverhead
	if r.ContentLength > limit { // refused before a byte of it is read
		writeError(w, http.StatusRequestEntityTooLarge, fmt.Sprintf("a part is at most %d bytes", int64(filesystem.MaxUploadPartSize)))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, limit) // a stalled part is cut by guardBody
	part, err := multipartBody(r)
	if err != nil {
		multipartFail(w, err)
		return
	}
	stored, err := h.fs.UploadPart(id, number, part)
	if err != nil {
		multipartFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, multipartPartResponse{PartNumber: stored.Number, ETag: stored.ETag, Size: stored.Size})
}

// multipartBody finds the part's bytes: the "file" field of a
// multipart/form-data body (what the SDK sends; a *formdata.Part, which
// writes itself out in large pieces), or a raw application/octet-stream
// body.
func multipartBody(r *http.Request) (io.Reader, error) {
	mediaType, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err == nil && mediaType == "application/octet-stream" {
		return r.Body, nil
	}
	if err != nil || mediaType != "multipart/form-data" {
		return nil, multipartBadRequest(`the part must be multipart/form-data with a "file" field, or application/octet-stream`)
	}
	mr, err := formBody(r, r.Body)
	if err != nil {
		return nil, multipartBadRequest("multipart/form-data: " + err.Error())
	}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			return nil, multipartBadRequest(`no "file" field in the form`)
		}
		if err != nil {
			return nil, fmt.Errorf("read the form: %w: %w", filesystem.ErrUploadPartBody, err)
		}
		if p.FormName() == "file" {
			return p, nil
		}
		// Other fields are skipped; the body limit bounds them.
		if _, err := io.Copy(io.Discard, p); err != nil {
			return nil, fmt.Errorf("read the form: %w: %w", filesystem.ErrUploadPartBody, err)
		}
	}
}

func (h *filesystemHandlers) multipartComplete(w http.ResponseWriter, r *http.Request) {
	var req multipartCompleteRequest
	if !decodeJSON(w, r, maxJSONBody, &req, false) {
		return
	}
	parts := make([]filesystem.CompletedPart, len(req.Parts))
	for i, p := range req.Parts {
		parts[i] = filesystem.CompletedPart{Number: p.PartNumber, ETag: p.ETag, Size: p.Size}
	}
	path, err := h.fs.CompleteUpload(chi.URLParam(r, "uploadId"), parts)
	if err != nil {
		multipartFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successJSON{Path: path, Message: msgMultipartComplete})
}

func (h *filesystemHandlers) multipartAbort(w http.ResponseWriter, r *http.Request) {
	if err := h.fs.AbortUpload(chi.URLParam(r, "uploadId")); err != nil {
		multipartFail(w, err)
		return
	}
	writeJSON(w, http.StatusOK, successJSON{Message: msgMultipartAborted})
}

func (h *filesystemHandlers) multipartParts(w http.ResponseWriter, r *http.Request) {
	id := chi.URLParam(r, "uploadId")
	parts, err := h.fs.UploadParts(id)
	if err != nil {
		multipartFail(w, err)
		return
	}
	resp := multipartPartsResponse{UploadID: id, Parts: make([]multipartPartJSON, len(parts))}
	for i, p := range parts {
		resp.Parts[i] = multipartPartWire(p)
	}
	writeJSON(w, http.StatusOK, resp)
}

func (h *filesystemHandlers) multipartList(w http.ResponseWriter, r *http.Request) {
	ups, err := h.fs.Uploads()
	if err != nil {
		multipartFail(w, err)
		return
	}
	resp := multipartUploadsResponse{Uploads: make([]multipartUploadJSON, len(ups))}
	for i, u := range ups {
		parts := make(map[string]multipartPartJSON, len(u.Parts))
		for _, p := range u.Parts {
			parts[strconv.Itoa(p.Number)] = multipartPartWire(p)
		}
		resp.Uploads[i] = multipartUploadJSON{
			UploadID:    u.ID,
			Path:        u.Path,
			Permissions: u.Permissions,
			InitiatedAt: u.InitiatedAt.UTC().Format(time.RFC3339Nano),
			Parts:       parts,
		}
	}
	writeJSON(w, http.StatusOK, resp)
}

// multipartQuote bounds what of a client's string goes back into a message.
func multipartQuote(s string) string {
	if len(s) > 32 {
		return s[:32] + "..."
	}
	return s
}
