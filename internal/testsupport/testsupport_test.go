package testsupport

import (
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

func TestBodyReader(t *testing.T) {
	tests := []struct {
		name string
		body any
		want string // "" with nilReader: no body at all
		nil  bool
	}{
		{name: "nil", body: nil, nil: true},
		{name: "string as is", body: `{"raw":`, want: `{"raw":`},
		{name: "bytes as is", body: []byte("a\x00b"), want: "a\x00b"},
		{name: "a value as JSON", body: map[string]any{"command": "echo hi", "n": 2}, want: `{"command":"echo hi","n":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := BodyReader(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if tt.nil {
				if r != nil {
					t.Fatalf("reader %v, want none", r)
				}
				return
			}
			got, err := io.ReadAll(r)
			if err != nil || string(got) != tt.want {
				t.Fatalf("body %q (%v), want %q", got, err, tt.want)
			}
		})
	}
	if _, err := BodyReader(func() {}); err == nil {
		t.Error("a value JSON cannot encode gave no error")
	}
}

func TestTruncate(t *testing.T) {
	tests := []struct {
		in   string
		want string
	}{
		{"short", "short"},
		{strings.Repeat("x", truncateAt), strings.Repeat("x", truncateAt)},
		{strings.Repeat("x", truncateAt+1), strings.Repeat("x", truncateAt) + "... (2001 bytes)"},
	}
	for _, tt := range tests {
		if got := Truncate([]byte(tt.in)); got != tt.want {
			t.Errorf("Truncate(%d bytes) = %.40q... (%d bytes), want %d bytes", len(tt.in), got, len(got), len(tt.want))
		}
	}
}

// TestShellQuote runs each quoted word through a real shell.
func TestShellQuote(t *testing.T) {
	for _, s := range []string{"", "plain", "two words", "it's", `"$HOME" $(id) ; \`, "'''", "new\nline"} {
		out, err := exec.Command("sh", "-c", "printf %s "+ShellQuote(s)).Output()
		if err != nil || string(out) != s {
			t.Errorf("sh printed %q (%v) for ShellQuote(%q), want it back", out, err, s)
		}
	}
}

func TestProcKeepsNullApartFromEmpty(t *testing.T) {
	var p Proc
	if err := json.Unmarshal([]byte(`{"pid":"12","status":"running","logs":null,"stdout":"","stderr":"e\n"}`), &p); err != nil {
		t.Fatal(err)
	}
	if p.Logs != nil || p.Stdout == nil || p.StdoutText() != "" || p.StderrText() != "e\n" || p.LogsText() != "" {
		t.Errorf("decoded %v: want logs null, stdout empty, stderr e", p)
	}
	if s := p.String(); !strings.Contains(s, "logs null") || !strings.Contains(s, `stdout ""`) {
		t.Errorf("String() = %s, want null and \"\" told apart", s)
	}
}

func TestLogBufferBound(t *testing.T) {
	b := &LogBuffer{Bound: 100}
	for i := 0; i < 50; i++ {
		_, _ = b.Write([]byte("0123456789"))
	}
	_, _ = b.Write([]byte("last"))
	got := b.String()
	if len(got) > 100+len(cutNote)+10 || !strings.HasPrefix(got, cutNote) || !strings.HasSuffix(got, "last") {
		t.Errorf("bounded buffer holds %d bytes: %q", len(got), got)
	}
	unbounded := &LogBuffer{}
	for i := 0; i < 50; i++ {
		_, _ = unbounded.Write([]byte("0123456789"))
	}
	if n := len(unbounded.String()); n != 500 {
		t.Errorf("unbounded buffer holds %d bytes, want 500", n)
	}
}

func TestWaits(t *testing.T) {
	var polls atomic.Int32
	Until(t, "the third poll", func() bool { return polls.Add(1) >= 3 })
	if n := polls.Load(); n != 3 {
		t.Errorf("Until returned after %d polls, want 3", n)
	}
	ch := make(chan int, 1)
	go func() { ch <- 7 }()
	if v := Receive(t, ch, "the value"); v != 7 {
		t.Errorf("Receive = %d, want 7", v)
	}
	close(ch)
	if v := Receive(t, ch, "the close"); v != 0 {
		t.Errorf("Receive of a closed channel = %d, want 0", v)
	}
}

func TestFreePortIsFree(t *testing.T) {
	port := FreePort(t, "tcp4", "127.0.0.1")
	if port <= 0 || port > 65535 {
		t.Fatalf("port %d", port)
	}
}

// TestOnlyTestsImportIt: no package of the module imports testsupport
// outside its tests: it must never reach the daemon's binary.
func TestOnlyTestsImportIt(t *testing.T) {
	out, err := exec.Command("go", "list", "-e", "-f", "{{.ImportPath}}:{{join .Deps \" \"}}", "github.com/sandbox-api/sandbox-api/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const self = "github.com/sandbox-api/sandbox-api/internal/testsupport"
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		pkg, deps, _ := strings.Cut(line, ":")
		if pkg == self {
			continue
		}
		for _, d := range strings.Fields(deps) {
			if d == self {
				t.Errorf("%s imports %s outside its tests", pkg, self)
			}
		}
	}
}

func TestWriteTree(t *testing.T) {
	dir := t.TempDir()
	WriteTree(t, dir, map[string]string{"a/b/c.txt": "deep", "empty/": "", "top.txt": ""})
	for _, c := range []struct {
		path    string
		dir     bool
		content string
	}{
		{"a/b/c.txt", false, "deep"},
		{"a/b", true, ""},
		{"empty", true, ""},
		{"top.txt", false, ""},
	} {
		info, err := os.Stat(filepath.Join(dir, c.path))
		if err != nil || info.IsDir() != c.dir {
			t.Errorf("%s: %v (dir %v), want dir %v", c.path, err, info != nil && info.IsDir(), c.dir)
			continue
		}
		if !c.dir {
			if b, _ := os.ReadFile(filepath.Join(dir, c.path)); string(b) != c.content {
				t.Errorf("%s holds %q, want %q", c.path, b, c.content)
			}
		}
	}
}
