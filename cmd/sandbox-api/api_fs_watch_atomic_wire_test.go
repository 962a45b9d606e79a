package main

// Black-box tests of the daemon's own temporary files (its atomic writes):
// a watch sees each API write as an in-place write would show, never a
// temporary name; listings, trees, find and the searches never show one,
// even mid-write; and one a crash leaves behind is gone at the next start.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/testsupport"
)

// eventsBefore reads s until op of full path arrives and returns the events
// before it as "OP name", names relative to dir.
func (s *watchStream) eventsBefore(t *testing.T, dir, op, full string) []string {
	t.Helper()
	var seen []string
	var keepalives int
	for {
		line, ok := s.lines.nextData(t, &keepalives)
		if !ok {
			t.Fatalf("the stream ended before %s %s; saw %q (%v)", op, full, seen, s.lines.err)
		}
		var ev wireEvent
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("line %q is not a JSON event: %v", line, err)
		}
		p := filepath.Join(testsupport.Deref(ev.Path), testsupport.Deref(ev.Name))
		if testsupport.Deref(ev.Op) == op && p == full {
			return seen
		}
		if rel, err := filepath.Rel(dir, p); err == nil {
			p = rel
		}
		seen = append(seen, testsupport.Deref(ev.Op)+" "+p+testsupport.Deref(ev.Error))
	}
}

// TestWatchWireSeesAPIWritesAsInPlaceWrites: each way the API writes a file
// is, to a watch of its folder, one WRITE of a file that was there and
// CREATE then WRITE of a new one, as an in-place write shows; the watch of
// the file itself sees the same WRITEs and goes on.
func TestWatchWireSeesAPIWritesAsInPlaceWrites(t *testing.T) {
	t.Parallel()
	d := mpStartDaemon(t)
	dir := filepath.Join(d.workDir, "watched")
	file := filepath.Join(dir, "f.txt")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	folderWatch := openWatch(t, d.daemon, filesEnc("/watch/filesystem/", dir), nil)
	folderWatch.wantStream(t)

	put := func(what string, status int, body any, header ...string) {
		t.Helper()
		resp, out := d.do(http.MethodPut, filesEnc("/filesystem/", file), body, header...)
		if resp.StatusCode != status {
			t.Fatalf("%s: %d %s", what, resp.StatusCode, testsupport.Truncate(out))
		}
	}
	put("JSON write of a new file", http.StatusOK, map[string]any{"content": "1"})
	fileWatch := openWatch(t, d.daemon, filesEnc("/watch/filesystem/", file), nil)
	fileWatch.wantStream(t)
	put("JSON write over it", http.StatusOK, map[string]any{"content": "2"})
	put("raw body over it", http.StatusOK, "3", "Content-Type", "application/octet-stream")
	form, ct := filesForm(t, []byte("4"), "0644", file)
	put("form upload over it", http.StatusOK, form, "Content-Type", ct)
	id, _ := d.initiate(filesEnc("", file), nil)
	d.complete(id, d.putPart(id, 1, []byte("5")))
	d.doJSON(http.MethodPut, filesEnc("/filesystem/tree/", dir), map[string]any{"files": map[string]string{"f.txt": "6", "t.txt": "new"}}, http.StatusOK, nil)

	if got := filesReadFile(t, file); got != "6" {
		t.Fatalf("the file reads %q after the writes", got)
	}
	sentinel := filepath.Join(dir, "zz-sentinel")
	touch(t, sentinel)
	want := []string{"CREATE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "CREATE t.txt", "WRITE t.txt"}
	if got := folderWatch.eventsBefore(t, dir, "CREATE", sentinel); !slices.Equal(got, want) {
		t.Errorf("watch of the folder saw %q, want %q", got, want)
	}

	// The file's own watch: the five writes after it started, then a change
	// of its own (the sentinel here) shows it still runs.
	if err := os.Chmod(file, 0o600); err != nil {
		t.Fatal(err)
	}
	want = []string{"WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt", "WRITE f.txt"}
	if got := fileWatch.eventsBefore(t, dir, "CHMOD", file); !slices.Equal(got, want) {
		t.Errorf("watch of the file saw %q, want %q", got, want)
	}
}

// TestTempFilesHiddenMidUpload: while an upload is under way, its temporary
// file is in no listing, tree, find, fuzzy or content search (hidden files
// asked for), and a watch does not report it.
func TestTempFilesHiddenMidUpload(t *testing.T) {
	t.Parallel()
	d := startDaemon(t, daemonOptions{})
	dir := filepath.Join(d.workDir, "up")
	dest := filepath.Join(dir, "a.txt")
	filesPutJSON(t, d, dest, "old")
	w := openWatch(t, d, filesEnc("/watch/filesystem/", dir+"/**"), nil)
	w.wantStream(t)

	chunk := []byte("needle-in-flight ")
	conn := filesRawUpload(t, d, filesEnc("/filesystem/", dest), fmt.Sprintf("Content-Type: application/octet-stream\r\nContent-Length: %d\r\n", 2*len(chunk)))
	if _, err := conn.Write(chunk); err != nil {
		t.Fatal(err)
	}
	// The upload is under way: its temporary file holds the first chunk.
	testsupport.Eventually(t, func() (bool, string) {
		temps := filesTemps(t, dir)
		if len(temps) != 1 {
			return false, fmt.Sprintf("temporary files %v, want the upload's", temps)
		}
		fi, err := os.Stat(temps[0])
		return err == nil && fi.Size() == int64(len(chunk)), "the first chunk never reached the temporary file"
	})

	// Hidden files are asked for, so only the daemon's own hiding can keep
	// the temporary file out; the content search would find its content.
	for _, target := range []string{
		filesEnc("/filesystem/", dir),
		filesEnc("/filesystem/tree/", dir),
		filesEnc("/filesystem-find/", dir) + "?excludeHidden=false",
		filesEnc("/filesystem-search/", dir) + "?query=tmp&excludeHidden=false",
		filesEnc("/filesystem-content-search/", dir) + "?query=in-flight&excludeHidden=false",
	} {
		resp, body := d.do(http.MethodGet, target, nil)
		if resp.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %d %s", target, resp.StatusCode, testsupport.Truncate(body))
			continue
		}
		if strings.Contains(string(body), "sandbox-api-tmp") || strings.Contains(string(body), "needle") {
			t.Errorf("GET %s shows the upload's temporary file: %s", target, testsupport.Truncate(body))
		}
	}

	if _, err := conn.Write(chunk); err != nil {
		t.Fatal(err)
	}
	var status int
	if _, err := fmt.Fscanf(conn, "HTTP/1.1 %d", &status); err != nil || status != http.StatusOK {
		t.Fatalf("the upload answered %d (%v)", status, err)
	}
	if got := filesReadFile(t, dest); got != string(chunk)+string(chunk) {
		t.Fatalf("the file reads %q", got)
	}
	sentinel := filepath.Join(dir, "zz-sentinel")
	touch(t, sentinel)
	if got := w.eventsBefore(t, dir, "CREATE", sentinel); !slices.Equal(got, []string{"WRITE a.txt"}) {
		t.Errorf("the watch saw %q, want one WRITE of a.txt", got)
	}
}

// TestCrashLeftTempRemovedAtStart: a daemon killed mid-upload leaves its
// temporary file, listed in its journal; the next daemon removes it at its
// start, and the file the upload was replacing is untouched.
func TestCrashLeftTempRemovedAtStart(t *testing.T) {
	t.Parallel()
	tmp := t.TempDir() // $TMPDIR of both daemons: the journals' folder is theirs alone
	opts := daemonOptions{env: []string{"TMPDIR=" + tmp}}
	first := startDaemon(t, opts)
	dir := filepath.Join(t.TempDir(), "data")
	dest := filepath.Join(dir, "big.bin")
	filesPutJSON(t, first, dest, "old")
	conn := filesRawUpload(t, first, filesEnc("/filesystem/", dest), "Content-Type: application/octet-stream\r\nContent-Length: 1000000\r\n")
	if _, err := conn.Write([]byte("partial")); err != nil {
		t.Fatal(err)
	}
	var temps []string
	testsupport.Eventually(t, func() (bool, string) {
		temps = filesTemps(t, dir)
		return len(temps) == 1, fmt.Sprintf("temporary files %v, want the upload's", temps)
	})
	if err, _ := first.stopWith(syscall.SIGKILL); err == nil {
		t.Fatalf("the daemon exited cleanly on SIGKILL?")
	}
	if _, err := os.Stat(temps[0]); err != nil {
		t.Fatalf("the killed daemon's temporary file: %v, want it left behind", err)
	}

	second := startDaemon(t, opts)
	if _, err := os.Stat(temps[0]); !os.IsNotExist(err) {
		t.Errorf("after the next start, the temporary file %s: %v, want it removed", temps[0], err)
	}
	if got := filesReadFile(t, dest); got != "old" {
		t.Errorf("the destination reads %q, want the old file untouched", got)
	}
	if log := second.stderr.String(); !strings.Contains(log, "removed temporary files an earlier daemon left behind") {
		t.Errorf("the start does not say what it removed; log:\n%s", log)
	}
}
