package upgrade

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"runtime"
)

// The ELF header is read by hand, 20 bytes of it: debug/elf would bring
// DWARF, zlib and zstd readers into the binary for a check that reads no
// section (and their package init into every start).

// ELF header fields (the System V ABI's values).
const (
	elfClass32, elfClass64      = 1, 2
	elfDataLSB, elfDataMSB      = 1, 2
	elfOSABINone, elfOSABILinux = 0, 3
	elfTypeExec, elfTypeDyn     = 2, 3
)

// elfTarget is how an ELF header names a Go architecture.
type elfTarget struct {
	machine uint16
	class   byte
	data    byte // byte order
}

// elfTargets are the architectures the daemon builds for.
var elfTargets = map[string]elfTarget{
	"amd64":   {62, elfClass64, elfDataLSB},  // EM_X86_64
	"arm64":   {183, elfClass64, elfDataLSB}, // EM_AARCH64
	"386":     {3, elfClass32, elfDataLSB},   // EM_386
	"arm":     {40, elfClass32, elfDataLSB},  // EM_ARM
	"riscv64": {243, elfClass64, elfDataLSB}, // EM_RISCV
	"ppc64le": {21, elfClass64, elfDataLSB},  // EM_PPC64
	"s390x":   {22, elfClass64, elfDataMSB},  // EM_S390
	"loong64": {258, elfClass64, elfDataLSB}, // EM_LOONGARCH
}

// elfHeader is the part of an ELF header the check reads.
type elfHeader struct {
	class, data, osABI byte
	typ, machine       uint16
}

// readELFHeader reads the identification and the type and machine fields.
func readELFHeader(path string) (elfHeader, error) {
	f, err := os.Open(path)
	if err != nil {
		return elfHeader{}, err
	}
	defer f.Close()
	var b [20]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return elfHeader{}, fmt.Errorf("read the header: %w", err)
	}
	if string(b[:4]) != "\x7fELF" {
		return elfHeader{}, fmt.Errorf("bad magic number %q", b[:4])
	}
	h := elfHeader{class: b[4], data: b[5], osABI: b[7]}
	var order binary.ByteOrder
	switch h.data {
	case elfDataLSB:
		order = binary.LittleEndian
	case elfDataMSB:
		order = binary.BigEndian
	default:
		return elfHeader{}, fmt.Errorf("unknown byte order %d", h.data)
	}
	h.typ, h.machine = order.Uint16(b[16:18]), order.Uint16(b[18:20])
	return h, nil
}

// checkExecutable reads the ELF header of path: an executable (or a
// position-independent one) for Linux and this daemon's architecture.
// Nothing of the file runs.
func checkExecutable(path string) error {
	h, err := readELFHeader(path)
	if err != nil {
		return fmt.Errorf("%w: no ELF header (%v)", ErrNotExecutable, err)
	}
	if h.typ != elfTypeExec && h.typ != elfTypeDyn {
		return fmt.Errorf("%w: an ELF file of type %d, not an executable", ErrNotExecutable, h.typ)
	}
	if h.osABI != elfOSABINone && h.osABI != elfOSABILinux {
		return fmt.Errorf("%w: built for OS ABI %d, this daemon runs on linux", ErrWrongPlatform, h.osABI)
	}
	want, ok := elfTargets[runtime.GOARCH]
	if !ok {
		return nil // an architecture this check does not know: --version decides
	}
	if h.machine != want.machine || h.class != want.class || h.data != want.data {
		return fmt.Errorf("%w: built for machine %d (class %d, byte order %d), this daemon runs on linux/%s",
			ErrWrongPlatform, h.machine, h.class, h.data, runtime.GOARCH)
	}
	return nil
}
