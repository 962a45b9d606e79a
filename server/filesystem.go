package server

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/watch"
)

// filesystemHandlers serve every /filesystem* and /watch/filesystem route.
type filesystemHandlers struct {
	fs      *filesystem.FS
	watches *watch.Service
	opts    Options
	streams *streamLimit // watches
}

// clientPath is the filesystem path of the request, after prefix. On a bad
// encoding it answers 400 and returns false.
func clientPath(w http.ResponseWriter, r *http.Request, prefix string) (string, bool) {
	if r.URL.EscapedPath() == strings.TrimSuffix(prefix, "/") {
		return "", true
	}
	p, err := pathAfter(r, prefix)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return "", false
	}
	return p, true
}

// target reads what GET and HEAD share: the path, whether a download was
// asked for (Accept: application/octet-stream or ?download=true), and what
// is there. It answers the client itself and returns ok=false on an error,
// including a folder asked for as a download.
func (h *filesystemHandlers) target(w http.ResponseWriter, r *http.Request) (p string, info filesystem.FileInfo, download, ok bool) {
	if p, ok = clientPath(w, r, filesystemPrefix); !ok {
		return
	}
	if download, ok = queryBool(w, r, "download", false); !ok {
		return
	}
	download = download || acceptsOctetStream(r)
	info, err := h.fs.Stat(p)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return p, info, download, false
	}
	if info.IsDir && download {
		writeError(w, http.StatusUnprocessableEntity, info.Path+" is a folder: only files can be downloaded")
		return p, info, download, false
	}
	return p, info, download, true
}

// get is GET /filesystem/{path}: a folder's listing, a file as JSON with
// its content, or the file's bytes with Accept: application/octet-stream
// or ?download=true.
func (h *filesystemHandlers) get(w http.ResponseWriter, r *http.Request) {
	p, info, download, ok := h.target(w, r)
	switch {
	case !ok:
	case info.IsDir:
		h.list(w, r, p)
	case download:
		h.download(w, r, p)
	default:
		h.readJSON(w, r, p)
	}
}

// list answers the listing of the folder p, a heavy read: a folder may
// hold millions of entries.
func (h *filesystemHandlers) list(w http.ResponseWriter, r *http.Request, p string) {
	release, ok := h.waitHeavyRead(w, r)
	if !ok {
		return
	}
	defer release()
	dir, err := h.fs.List(p)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeHeavyJSON(w, listingJSON(dir))
}

// head is HEAD /filesystem/{path}: the status and headers GET would send.
// A download answers with its length, ETag and Last-Modified
// (http.ServeContent handles HEAD). A JSON answer has no length, as with
// GET; the file is opened as GET opens it (so a FIFO is 422 and an
// unreadable file 403), and read only when its size is unknown, since
// only its length tells 200 from 413. A folder is opened, not listed.
func (h *filesystemHandlers) head(w http.ResponseWriter, r *http.Request) {
	p, info, download, ok := h.target(w, r)
	switch {
	case !ok:
		return
	case download:
		h.download(w, r, p)
		return
	case info.IsDir:
		if err := h.fs.CheckList(p); err != nil {
			fileRoutes.writeFailure(w, err)
			return
		}
	default:
		c, ok := h.openJSONRead(w, r, p)
		if !ok {
			return
		}
		c.close()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
}

// delete is DELETE /filesystem/{path}[?recursive=true].
func (h *filesystemHandlers) delete(w http.ResponseWriter, r *http.Request) {
	p, ok := clientPath(w, r, filesystemPrefix)
	if !ok {
		return
	}
	h.remove(w, r, p, false)
}

// remove deletes p; recursive applies when the query does not say.
func (h *filesystemHandlers) remove(w http.ResponseWriter, r *http.Request, p string, recursive bool) {
	recursive, ok := queryBool(w, r, "recursive", recursive)
	if !ok {
		return
	}
	abs, wasDir, err := h.fs.Remove(p, recursive)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	msg := msgFileDeleted
	if wasDir {
		msg = msgDirectoryDeleted
	}
	writeJSON(w, http.StatusOK, successJSON{Path: abs, Message: msg})
}

// queryBool reads a boolean query parameter; a value that is not one
// answers 400 and returns ok=false.
func queryBool(w http.ResponseWriter, r *http.Request, name string, def bool) (v, ok bool) {
	s := r.URL.Query().Get(name)
	if s == "" {
		return def, true
	}
	v, err := strconv.ParseBool(s)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid "+name+" "+strconv.Quote(s)+": want true or false")
		return false, false
	}
	return v, true
}

// acceptsOctetStream reports an Accept header that lists
// application/octet-stream (the SDK's readBinary and download).
func acceptsOctetStream(r *http.Request) bool {
	for _, accept := range r.Header.Values("Accept") {
		for _, media := range strings.Split(accept, ",") {
			media, _, _ = strings.Cut(media, ";")
			if strings.EqualFold(strings.TrimSpace(media), "application/octet-stream") {
				return true
			}
		}
	}
	return false
}

// successJSON is SuccessResponse, its fields in the existing daemon's
// order.
type successJSON struct {
	Path    string `json:"path,omitempty"`
	Message string `json:"message"`
}

// Success messages of the filesystem routes: the existing daemon's texts,
// which clients match on.
const (
	msgFileWritten       = "File created/updated successfully"
	msgBinaryUploaded    = "Binary file uploaded successfully"
	msgDirectoryCreated  = "Directory created successfully"
	msgFileDeleted       = "File deleted successfully"
	msgDirectoryDeleted  = "Directory deleted successfully"
	msgMultipartComplete = "Multipart upload completed successfully"
	msgMultipartAborted  = "Multipart upload aborted successfully"
)

// fileJSON is File: one file of a listing.
type fileJSON struct {
	Path         string `json:"path"`
	Name         string `json:"name"`
	Permissions  string `json:"permissions"`
	Size         int64  `json:"size"`
	LastModified string `json:"lastModified"`
	Owner        string `json:"owner"`
	Group        string `json:"group"`
}

// subdirectoryJSON is Subdirectory: one folder of a listing.
type subdirectoryJSON struct {
	Path string `json:"path"`
	Name string `json:"name"`
}

// directoryJSON is Directory, as GET answers for a folder.
type directoryJSON struct {
	Path           string             `json:"path"`
	Name           string             `json:"name"`
	Files          []fileJSON         `json:"files"`
	Subdirectories []subdirectoryJSON `json:"subdirectories"`
}

// lastModified is RFC 3339 with nanoseconds, in UTC: mtimes finer than a
// second tell two quick writes apart.
func lastModified(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func fileInfoJSON(i filesystem.FileInfo) fileJSON {
	return fileJSON{
		Path:         i.Path,
		Name:         i.Name,
		Permissions:  i.Permissions(),
		Size:         i.Size,
		LastModified: lastModified(i.ModTime),
		Owner:        i.Owner,
		Group:        i.Group,
	}
}

func filesJSON(files []filesystem.FileInfo) []fileJSON {
	out := make([]fileJSON, 0, len(files))
	for _, f := range files {
		out = append(out, fileInfoJSON(f))
	}
	return out
}

func listingJSON(d filesystem.Directory) directoryJSON {
	subs := make([]subdirectoryJSON, 0, len(d.Subdirectories))
	for _, s := range d.Subdirectories {
		subs = append(subs, subdirectoryJSON{Path: s.Path, Name: s.Name})
	}
	return directoryJSON{Path: d.Path, Name: d.Name, Files: filesJSON(d.Files), Subdirectories: subs}
}
