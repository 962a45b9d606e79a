package upgrade

import (
	"debug/elf"
	"encoding/binary"
	"fmt"
	"runtime"
)

// elfTarget is how an ELF header names a Go architecture.
type elfTarget struct {
	machine elf.Machine
	class   elf.Class
	order   binary.ByteOrder
}

// elfTargets are the architectures the daemon builds for.
var elfTargets = map[string]elfTarget{
	"amd64":   {elf.EM_X86_64, elf.ELFCLASS64, binary.LittleEndian},
	"arm64":   {elf.EM_AARCH64, elf.ELFCLASS64, binary.LittleEndian},
	"386":     {elf.EM_386, elf.ELFCLASS32, binary.LittleEndian},
	"arm":     {elf.EM_ARM, elf.ELFCLASS32, binary.LittleEndian},
	"riscv64": {elf.EM_RISCV, elf.ELFCLASS64, binary.LittleEndian},
	"ppc64le": {elf.EM_PPC64, elf.ELFCLASS64, binary.LittleEndian},
	"s390x":   {elf.EM_S390, elf.ELFCLASS64, binary.BigEndian},
	"loong64": {elf.EM_LOONGARCH, elf.ELFCLASS64, binary.LittleEndian},
}

// checkExecutable reads the ELF header of path: an executable (or a
// position-independent one) for Linux and this daemon's architecture.
// Nothing of the file runs.
func checkExecutable(path string) error {
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("%w: no ELF header (%v)", ErrNotExecutable, err)
	}
	defer f.Close()
	if f.Type != elf.ET_EXEC && f.Type != elf.ET_DYN {
		return fmt.Errorf("%w: an ELF %s, not an executable", ErrNotExecutable, f.Type)
	}
	if f.OSABI != elf.ELFOSABI_NONE && f.OSABI != elf.ELFOSABI_LINUX {
		return fmt.Errorf("%w: built for %s, this daemon runs on linux", ErrWrongPlatform, f.OSABI)
	}
	want, ok := elfTargets[runtime.GOARCH]
	if !ok {
		return nil // an architecture this check does not know: --version decides
	}
	if f.Machine != want.machine || f.Class != want.class || f.ByteOrder != want.order {
		return fmt.Errorf("%w: built for %s (%s, %s), this daemon runs on linux/%s", ErrWrongPlatform, f.Machine, f.Class, f.ByteOrder, runtime.GOARCH)
	}
	return nil
}
