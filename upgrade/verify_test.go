package upgrade

import (
	"debug/elf"
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
	// The test binary with its header's machine changed: a build for
	// another architecture, as far as the header says.
	other := filepath.Join(t.TempDir(), "other")
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	target := elfTargets[runtime.GOARCH]
	machine := elf.EM_S390
	if target.machine == elf.EM_S390 {
		machine = elf.EM_X86_64
	}
	target.order.PutUint16(data[18:20], uint16(machine)) // e_machine
	if err := os.WriteFile(other, data, 0o755); err != nil {
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
