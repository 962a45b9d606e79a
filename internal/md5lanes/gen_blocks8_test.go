package md5lanes

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// blocks8_amd64.s is what gen_blocks8.go writes: an edit of one without
// the other fails here.
func TestBlocks8IsGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "blocks8_amd64.s")
	if err := testsupport.GoBuild("", nil, "run", "gen_blocks8.go", out); err != nil {
		t.Fatal(err)
	}
	want, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile("blocks8_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Error("blocks8_amd64.s differs from what gen_blocks8.go writes: run go generate ./internal/md5lanes")
	}
}
