package hugetext

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// mapCode maps a file of 2 MiB read-only and executable at a 2 MiB-aligned
// address, as the program's code is mapped, and returns the address and
// the file's bytes.
func mapCode(t *testing.T) (uintptr, []byte) {
	t.Helper()
	content := bytes.Repeat([]byte("code\x90\xc3"), pageSize/6+1)[:pageSize]
	path := filepath.Join(t.TempDir(), "code")
	if err := os.WriteFile(path, content, 0o500); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// Reserve twice the size, then map the file over its aligned half.
	raw, _, e := unix.Syscall6(unix.SYS_MMAP, 0, 2*pageSize, unix.PROT_NONE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS, ^uintptr(0), 0)
	if e != 0 {
		t.Fatalf("reserve: %v", e)
	}
	at := (raw + pageSize - 1) &^ (pageSize - 1)
	if _, _, e := unix.Syscall6(unix.SYS_MMAP, at, pageSize, unix.PROT_READ|unix.PROT_EXEC, unix.MAP_PRIVATE|unix.MAP_FIXED, f.Fd(), 0); e != 0 {
		t.Fatalf("map the file: %v", e)
	}
	t.Cleanup(func() { munmap(raw, 2*pageSize) })
	return at, content
}

// A file's code mapped like a program's moves to an anonymous huge page at
// the same address, read-only and executable, with the same bytes.
func TestMoveOneKeepsTheCodeOnAHugePage(t *testing.T) {
	at, content := mapCode(t)
	if err := moveOne(at); err != nil {
		t.Fatalf("moveOne: %v", err)
	}
	var perms string
	var huge, anonymous, found bool
	err := eachMapping(selfSmaps, func(lo, hi uintptr, p string, field func(string) (int, bool)) bool {
		if lo != at {
			return true
		}
		found, perms = true, p
		kb, _ := field("AnonHugePages")
		huge = kb >= pageSize>>10 && hi-lo == pageSize
		anon, _ := field("Anonymous")
		anonymous = anon == pageSize>>10
		return false
	})
	if err != nil || !found {
		t.Fatalf("no mapping starts at %#x after the move (%v)", at, err)
	}
	if !huge || !anonymous || perms != "r-xp" {
		t.Fatalf("mapping at %#x: perms %q, huge %v, anonymous %v; want r-xp, one anonymous huge page", at, perms, huge, anonymous)
	}
	got := make([]byte, pageSize)
	if err := readOwnMemory(got, at); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, content) {
		t.Fatal("the moved code differs from the file's")
	}
}

// Move finds the runtime's code; a program with too little code for an
// aligned 2 MiB (this test binary without -race) says so, and keeps its
// code where it was.
func TestMoveTheRuntimesCode(t *testing.T) {
	at, err := Move()
	switch {
	case errors.Is(err, ErrSmallCode):
		start, end, err := codeMapping(runtimeCode())
		if err != nil {
			t.Fatal(err)
		}
		if aligned := (start + pageSize - 1) &^ (pageSize - 1); aligned+pageSize <= end {
			t.Fatalf("ErrSmallCode, but %#x-%#x holds an aligned 2 MiB", start, end)
		}
	case err != nil:
		t.Fatalf("Move: %v", err)
	default:
		start, end, err := codeMapping(runtimeCode())
		if err != nil || start != at || end != at+pageSize {
			t.Fatalf("after moving %#x, the runtime's code is in %#x-%#x (%v)", at, start, end, err)
		}
	}
	done := make(chan int)
	go func() { done <- len(strings.Repeat("x", 1000)) }()
	if n := <-done; n != 1000 {
		t.Fatalf("code after Move computed %d", n)
	}
}

func TestMappingHeader(t *testing.T) {
	tests := []struct {
		line   string
		lo, hi uintptr
		perms  string
		ok     bool
	}{
		{"00400000-00600000 r-xp 00000000 fe:00 123 /bin/x", 0x400000, 0x600000, "r-xp", true},
		{"7f00-7f10 rw-p 00000000 00:00 0 ", 0x7f00, 0x7f10, "rw-p", true},
		{"AnonHugePages:      2048 kB", 0, 0, "", false},
		{"VmFlags: rd ex mr mw me", 0, 0, "", false},
	}
	for _, tt := range tests {
		lo, hi, perms, ok := mappingHeader(tt.line)
		if lo != tt.lo || hi != tt.hi || perms != tt.perms || ok != tt.ok {
			t.Errorf("mappingHeader(%q) = %#x, %#x, %q, %v; want %#x, %#x, %q, %v", tt.line, lo, hi, perms, ok, tt.lo, tt.hi, tt.perms, tt.ok)
		}
	}
}
