package main

import (
	"io"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/filesystem"
	"github.com/sandbox-api/sandbox-api/watch"
)

// defaultBounds is what the bounds' flags give when none is set: the
// defaults of the filesystem and watch packages, never copies of them.
var defaultBounds = boundsConfig{
	maxHeavyReads:   filesystem.DefaultMaxHeavyReads,
	maxWatchFolders: watch.DefaultMaxFolders,
	maxUploads:      filesystem.DefaultMaxUploads,
}

func TestBoundsFlags(t *testing.T) {
	got, err := parseFlags([]string{"--max-heavy-reads", "2", "--max-watch-folders=100", "--max-uploads", "7"}, func(string) string { return "" }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	if want := (boundsConfig{maxHeavyReads: 2, maxWatchFolders: 100, maxUploads: 7}); got.bounds != want {
		t.Fatalf("bounds %+v, want %+v", got.bounds, want)
	}
	for _, name := range []string{"max-heavy-reads", "max-watch-folders", "max-uploads"} {
		for _, bad := range []string{"0", "-1"} {
			_, err := parseFlags([]string{"--" + name, bad}, func(string) string { return "" }, io.Discard)
			if err == nil || !strings.Contains(err.Error(), "--"+name) {
				t.Errorf("--%s %s: error %v, want one naming the flag", name, bad, err)
			}
		}
	}
}
