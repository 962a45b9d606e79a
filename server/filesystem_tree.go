package server

import (
	"net/http"

	"github.com/sandbox-api/sandbox-api/filesystem"
)

// treeJSON is Directory with its subfolders filled in, recursively.
type treeJSON struct {
	Path           string     `json:"path"`
	Name           string     `json:"name"`
	Files          []fileJSON `json:"files"`
	Subdirectories []treeJSON `json:"subdirectories"`
}

func nestedJSON(d filesystem.Directory) treeJSON {
	subs := make([]treeJSON, 0, len(d.Subdirectories))
	for _, s := range d.Subdirectories {
		subs = append(subs, nestedJSON(s))
	}
	return treeJSON{Path: d.Path, Name: d.Name, Files: filesJSON(d.Files), Subdirectories: subs}
}

// getTree is GET /filesystem/tree/{path}: the folder, recursively.
func (h *filesystemHandlers) getTree(w http.ResponseWriter, r *http.Request) {
	p, ok := clientPath(w, r, treePrefix)
	if !ok {
		return
	}
	release, ok := h.waitHeavyRead(w, r)
	if !ok {
		return
	}
	defer release()
	tree, err := h.fs.Tree(p, filesystem.MaxTreeEntries)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeHeavyJSON(w, nestedJSON(tree))
}

// treeRequest is TreeRequest.
type treeRequest struct {
	Files map[string]string `json:"files"`
}

// putTree is PUT /filesystem/tree/{path} {files: {"rel/path": content}}.
// It answers the tree of what it wrote.
func (h *filesystemHandlers) putTree(w http.ResponseWriter, r *http.Request) {
	p, ok := clientPath(w, r, treePrefix)
	if !ok {
		return
	}
	var req treeRequest
	if !decodeJSON(w, r, maxFileJSONBody, &req, false) {
		return
	}
	if req.Files == nil {
		writeError(w, http.StatusBadRequest, `the body needs a "files" object mapping relative paths to contents`)
		return
	}
	tree, err := h.fs.WriteTree(p, req.Files)
	if err != nil {
		fileRoutes.writeFailure(w, err)
		return
	}
	writeJSON(w, http.StatusOK, nestedJSON(tree))
}

// deleteTree is DELETE /filesystem/tree/{path}: recursive unless the query
// says recursive=false.
func (h *filesystemHandlers) deleteTree(w http.ResponseWriter, r *http.Request) {
	p, ok := clientPath(w, r, treePrefix)
	if !ok {
		return
	}
	h.remove(w, r, p, true)
}
