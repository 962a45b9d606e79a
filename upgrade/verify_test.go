package upgrade

import (
	"debug/elf"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

func TestCheckExecutable(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	text := filepath.Join(t.TempDir(), "notes.txt")
	if err := os.WriteFile(text, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	// The test binary with a header field changed: a build for another
	// architecture, OS or word size, as far as the header says, or no
	// executable at all.
	var other string
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	target := elfTargets[runtime.GOARCH]
	var order binary.ByteOrder = binary.LittleEndian
	if target.data == elfDataMSB {
		order = binary.BigEndian
	}
	machine := elf.EM_S390
	if target.machine == uint16(elf.EM_S390) {
		machine = elf.EM_X86_64
	}
	changed := func(name string, change func([]byte)) string {
		b := append([]byte(nil), data...)
		change(b)
		path := filepath.Join(t.TempDir(), name)
		if err := os.WriteFile(path, b, 0o755); err != nil {
			t.Fatal(err)
		}
		return path
	}
	other = changed("other", func(b []byte) { order.PutUint16(b[18:20], uint16(machine)) })       // e_machine
	object := changed("object", func(b []byte) { order.PutUint16(b[16:18], uint16(elf.ET_REL)) }) // e_type
	freeBSD := changed("freebsd", func(b []byte) { b[7] = byte(elf.ELFOSABI_FREEBSD) })
	otherClass := changed("class", func(b []byte) { b[4] ^= 3 }) // 32 <-> 64 bits
	short := changed("short", func(b []byte) {})
	if err := os.Truncate(short, 12); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		path string
		want error
	}{
		{"this test binary", self, nil},
		{"a script", text, ErrNotExecutable},
		{"another architecture", other, ErrWrongPlatform},
		{"an object file", object, ErrNotExecutable},
		{"another OS", freeBSD, ErrWrongPlatform},
		{"another word size", otherClass, ErrWrongPlatform},
		{"a cut header", short, ErrNotExecutable},
		{"no file", filepath.Join(t.TempDir(), "none"), ErrNotExecutable},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkExecutable(tc.path); !errors.Is(err, tc.want) {
				t.Errorf("checkExecutable(%s) = %v, want %v", tc.name, err, tc.want)
			}
		})
	}
}

func TestReadsFormat(t *testing.T) {
	for _, tc := range []struct {
		output string
		want   bool
	}{
		{"sandbox-api v2 (commit abc, built now, " + handover.VersionNote() + ")\n", true},
		{"sandbox-api v9 (commit abc, built now, handover 7,1)\n", handover.FormatVersion == 1},
		{"sandbox-api v9 (commit abc, built now, handover 11)\n", handover.FormatVersion == 11},
		{"sandbox-api v0 (commit abc, built now)\n", false},
		{"GNU coreutils true 9.1\n", false},
	} {
		if got := handover.ReadsFormat(tc.output, handover.FormatVersion); got != tc.want {
			t.Errorf("ReadsFormat(%q, %d) = %v, want %v", tc.output, handover.FormatVersion, got, tc.want)
		}
	}
}

// TestReadELFHeaderAgreesWithDebugELF holds the hand-read header to the
// standard library's reading of the same file.
func TestReadELFHeaderAgreesWithDebugELF(t *testing.T) {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	h, err := readELFHeader(self)
	if err != nil {
		t.Fatal(err)
	}
	f, err := elf.Open(self)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got := []uint64{uint64(h.class), uint64(h.data), uint64(h.osABI), uint64(h.typ), uint64(h.machine)}
	want := []uint64{uint64(f.Class), uint64(f.Data), uint64(f.OSABI), uint64(f.Type), uint64(f.Machine)}
	for i, name := range []string{"class", "data", "OS ABI", "type", "machine"} {
		if got[i] != want[i] {
			t.Errorf("%s: read %d, debug/elf reads %d", name, got[i], want[i])
		}
	}
}
