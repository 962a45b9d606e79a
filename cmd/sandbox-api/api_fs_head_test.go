package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestFSHead: HEAD answers GET's status and headers without a body, so a
// client can check a file's existence, size and version cheaply.
func TestFSHead(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	data := strings.Repeat("0123456789", 1000)
	file := filepath.Join(d.workDir, "data.txt")
	if err := os.WriteFile(file, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	url := filesEnc("/filesystem/", file)
	tests := []struct {
		name       string
		path       string
		header     []string
		wantStatus int
		wantType   string
		wantLength string
	}{
		{"file as a download", url, []string{"Accept", "application/octet-stream"}, http.StatusOK, "text/plain", "10000"},
		{"file with ?download", url + "?download=true", nil, http.StatusOK, "text/plain", "10000"},
		{"file as JSON", url, nil, http.StatusOK, "application/json", ""},
		{"folder", filesEnc("/filesystem/", d.workDir), nil, http.StatusOK, "application/json", ""},
		{"working directory", "/filesystem", nil, http.StatusOK, "application/json", ""},
		{"missing", filesEnc("/filesystem/", filepath.Join(d.workDir, "nope")), nil, http.StatusNotFound, "application/json", ""},
		{"folder as a download", filesEnc("/filesystem/", d.workDir) + "?download=1", nil, http.StatusUnprocessableEntity, "application/json", ""},
		{"bad download flag", url + "?download=maybe", nil, http.StatusBadRequest, "application/json", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, body := d.do(http.MethodHead, tc.path, nil, tc.header...)
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.wantStatus)
			}
			if len(body) != 0 {
				t.Errorf("HEAD answered %d body bytes", len(body))
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.wantType) {
				t.Errorf("Content-Type %q, want %s", ct, tc.wantType)
			}
			if tc.wantLength != "" && resp.Header.Get("Content-Length") != tc.wantLength {
				t.Errorf("Content-Length %q, want %s", resp.Header.Get("Content-Length"), tc.wantLength)
			}
		})
	}

	// The ETag of HEAD is the one GET gives, and it makes GET conditional.
	resp, _ := d.do(http.MethodHead, url, nil, "Accept", "application/octet-stream")
	etag := resp.Header.Get("ETag")
	get, _ := d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream")
	if etag == "" || get.Header.Get("ETag") != etag {
		t.Errorf("HEAD ETag %q, GET ETag %q", etag, get.Header.Get("ETag"))
	}
	if resp, _ := d.do(http.MethodGet, url, nil, "Accept", "application/octet-stream", "If-None-Match", etag); resp.StatusCode != http.StatusNotModified {
		t.Errorf("GET with HEAD's ETag: %d, want 304", resp.StatusCode)
	}
}
