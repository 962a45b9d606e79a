package main

// Black-box test of the bound on open multipart uploads (issue 12).

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// TestOpenUploadsBound: past --max-uploads an initiate is a JSON 429 that
// says why and creates nothing; completing or aborting one makes room.
// Today's daemon took 5,000 initiates and kept 5,000 folders for a day.
func TestOpenUploadsBound(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t, "--max-uploads", "3")
	var ids []string
	for i := range 3 {
		id, _ := d.initiate(filepath.Join(d.workDir, "f"+string(rune('a'+i))), map[string]any{})
		ids = append(ids, id)
	}
	refused := func(when string) {
		t.Helper()
		resp, body := d.do(http.MethodPost, "/filesystem-multipart/initiate/"+filepath.Join(d.workDir, "over"), map[string]any{})
		var e struct{ Error string }
		if resp.StatusCode != http.StatusTooManyRequests || json.Unmarshal(body, &e) != nil ||
			!strings.Contains(e.Error, "3 multipart uploads are open") || !strings.Contains(e.Error, "--max-uploads") {
			t.Fatalf("initiate %s: %d %s, want a JSON 429 naming the bound and its flag", when, resp.StatusCode, testsupport.Truncate(body))
		}
		entries, err := os.ReadDir(d.uploadDir)
		if err != nil || len(entries) != 3 {
			t.Fatalf("initiate %s: %d entries in the upload folder (%v), want 3", when, len(entries), err)
		}
	}
	refused("past the bound")

	d.doJSON(http.MethodDelete, "/filesystem-multipart/"+ids[0]+"/abort", nil, http.StatusOK, nil)
	d.initiate(filepath.Join(d.workDir, "after-abort"), map[string]any{})
	refused("past the bound again")

	part := d.putPart(ids[1], 1, []byte("data"))
	d.complete(ids[1], part)
	d.initiate(filepath.Join(d.workDir, "after-complete"), map[string]any{})
	refused("once more")
}

// TestOpenUploadsDefaultBound: without the flag, the daemon refuses the
// initiate after filesystem.DefaultMaxUploads, not never.
func TestOpenUploadsDefaultBound(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	for i := range filesystem.DefaultMaxUploads + 1 {
		resp, body := d.do(http.MethodPost, "/filesystem-multipart/initiate/"+filepath.Join(d.workDir, "f"), map[string]any{})
		want := http.StatusOK
		if i == filesystem.DefaultMaxUploads {
			want = http.StatusTooManyRequests
		}
		if resp.StatusCode != want {
			t.Fatalf("initiate %d: %d %s, want %d", i+1, resp.StatusCode, testsupport.Truncate(body), want)
		}
	}
}
