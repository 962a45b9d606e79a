package imagebuilder

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/sandbox-api/sandbox-api/entrypoint"
)

func TestWrite(t *testing.T) {
	img := base.Copy("testdata/src", "/app/src").Copy("testdata/src/a.txt", "/app/a.txt").
		Expose(8000, 3000).Env(map[string]string{"Z": "1", "A": "x y"}).WithMemory(8192)
	out, err := img.Write(t.TempDir(), "my-image")
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"Dockerfile":             []byte(img.Dockerfile()),
		"entrypoint.sh":          entrypoint.Script,
		"files/0-src/a.txt":      []byte("hello\n"),
		"files/0-src/sub/run.sh": []byte("#!/bin/sh\necho x\n"),
		"files/1-a.txt":          []byte("hello\n"),
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join(out, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	for _, exe := range []string{"entrypoint.sh", "files/0-src/sub/run.sh"} {
		if fi, err := os.Stat(filepath.Join(out, exe)); err != nil || fi.Mode().Perm()&0o100 == 0 {
			t.Errorf("%s not executable (%v)", exe, err)
		}
	}
	toml, err := os.ReadFile(filepath.Join(out, "blaxel.toml"))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "write_blaxel.toml", string(toml))
}

func TestWriteTemp(t *testing.T) {
	out, err := base.WriteTemp()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(filepath.Dir(out)) })
	if _, err := os.Stat(filepath.Join(out, "Dockerfile")); err != nil {
		t.Fatal(err)
	}
}

func TestWriteMissingLocal(t *testing.T) {
	if _, err := base.Copy("testdata/missing", "/x").Write(t.TempDir(), "x"); err == nil {
		t.Fatal("Write succeeded with a missing local file")
	}
}

// A context that cannot be written leaves no temporary folder behind.
func TestWriteTempLeavesNothingOnFailure(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	if _, err := base.WithMemory(0).WriteTemp(); err == nil {
		t.Fatal("WriteTemp of an invalid image succeeded")
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Fatalf("WriteTemp left %d entries in the temp dir (%s...)", len(left), left[0].Name())
	}
}
