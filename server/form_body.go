package server

import (
	"io"
	"mime"
	"net/http"

	"github.com/sandbox-api/sandbox-api/internal/formdata"
)

// formBody reads the request's multipart/form-data body, body (the
// request's, bounded), field by field. It is Request.MultipartReader with
// internal/formdata in place of mime/multipart, whose small reads and
// writes would cost an upload most of its speed (see that package), and
// the same errors for a Content-Type without a boundary.
func formBody(r *http.Request, body io.Reader) (*formdata.Reader, error) {
	_, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, http.ErrNotMultipart
	}
	boundary, ok := params["boundary"]
	if !ok {
		return nil, http.ErrMissingBoundary
	}
	return formdata.NewReader(body, boundary), nil
}
