// Package hugetext moves the first 2 MiB of the program's code, the Go
// runtime's own (the linker puts it first), onto one huge page.
//
// Why: on the 2-core VM an exec-and-wait answered 11-15 µs sooner with
// that code on a huge page, moved 100 ms after the start as the daemon
// does (the same binary with the move on and off, in BenchmarkExecTrue
// and in a scratch client's rounds), 19 µs when moved at once, and 26
// µs with the first 4 MiB (docs/measured.md). A child runs on the daemon's
// vCPU and takes the TLB's entries with it; every step after its exit
// then walks the page tables again for each 4 KiB page of code it runs,
// and on a VM a walk costs many memory reads. One huge page holds the
// runtime's code in one entry. It also makes the daemon's figure less
// hostage to where the linker put each function: an unrelated function
// added to the binary moved the exec by 18 µs.
//
// How: the code is copied (read through /proc/self/mem) into an anonymous
// mapping aligned to 2 MiB and advised to be a huge page. Once that
// mapping is found on a huge page, it is made read-only and executable,
// and mremap(2) puts it in place of the file's pages at the same
// addresses, in one step (the copy is identical, so a thread running that
// code meanwhile runs the same instructions). The
// memory is never writable and executable at once. Nothing changes when
// the kernel gives no huge page (transparent huge pages off, or none
// free): the copy is dropped.
//
// The cost: the 2 MiB are the daemon's own memory instead of shared file
// pages, of which the idle daemon had some 1.9 MiB mapped anyway: its RSS
// grew by 0.1-0.4 MB. Only the first 2 MiB move: the next 2 MiB (net/http
// and the rest of the standard library) gave some 9 µs more for 0.3 MB,
// too close to the idle daemon's 10 MB. Profilers that symbolize from the
// executable's file (perf) do not see the moved code as the file's; the
// daemon's --text-huge-pages=false keeps it in place.
package hugetext

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"
)

// pageSize is the size of a huge page on amd64 and arm64 (with 4 KiB
// pages).
const pageSize = 2 << 20

// Move's errors when there is nothing it can do.
var (
	ErrNoHugePage = errors.New("the kernel gave no huge page")
	ErrSmallCode  = errors.New("the code holds no aligned 2 MiB") // a program under 2-4 MiB of code
)

// Move puts the first 2 MiB-aligned 2 MiB of the program's code on a huge
// page. It returns the address moved. On an error nothing has changed.
func Move() (uintptr, error) {
	if mode, err := os.ReadFile("/sys/kernel/mm/transparent_hugepage/enabled"); err == nil && bytes.Contains(mode, []byte("[never]")) {
		return 0, fmt.Errorf("transparent huge pages are off: %w", ErrNoHugePage)
	}
	start, end, err := codeMapping(runtimeCode())
	if err != nil {
		return 0, err
	}
	at := (start + pageSize - 1) &^ (pageSize - 1)
	if at+pageSize > end {
		return 0, fmt.Errorf("%#x-%#x: %w", start, end, ErrSmallCode)
	}
	if err := moveOne(at); err != nil {
		return 0, err
	}
	return at, nil
}

// runtimeCode is an address in the runtime's code, which the linker puts
// first.
func runtimeCode() uintptr { return reflect.ValueOf(runtime.Gosched).Pointer() }

// moveOne replaces the 2 MiB of code at at (2 MiB-aligned) by a copy on a
// huge page.
func moveOne(at uintptr) error {
	// Twice the size, to cut an aligned 2 MiB out of it. The mapping stays
	// known to x/sys/unix (which maps it) as a whole: it is never unmapped
	// through it, and its parts are unmapped or moved by address below.
	whole, err := unix.Mmap(-1, 0, 2*pageSize, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return fmt.Errorf("mmap: %w", err)
	}
	raw := uintptr(unsafe.Pointer(&whole[0]))
	skip := (pageSize - raw%pageSize) % pageSize
	copyAt := raw + skip
	dst := whole[skip : skip+pageSize : skip+pageSize]
	if skip > 0 {
		munmap(raw, skip)
	}
	if tail := 2*pageSize - skip - pageSize; tail > 0 {
		munmap(copyAt+pageSize, tail)
	}
	placed := false
	defer func() {
		if !placed {
			munmap(copyAt, pageSize)
		}
	}()
	if err := unix.Madvise(dst, unix.MADV_HUGEPAGE); errors.Is(err, unix.EINVAL) {
		return fmt.Errorf("madvise refused (a kernel without transparent huge pages): %w", ErrNoHugePage)
	} else if err != nil {
		return fmt.Errorf("madvise: %w", err)
	}
	if err := readOwnMemory(dst, at); err != nil {
		return err
	}
	huge, err := onHugePage(copyAt)
	if err != nil {
		return err
	}
	if !huge {
		return ErrNoHugePage
	}
	if err := unix.Mprotect(dst, unix.PROT_READ|unix.PROT_EXEC); err != nil {
		return fmt.Errorf("mprotect: %w", err)
	}
	if _, _, e := unix.Syscall6(unix.SYS_MREMAP, copyAt, pageSize, pageSize, unix.MREMAP_MAYMOVE|unix.MREMAP_FIXED, at, 0); e != 0 {
		return fmt.Errorf("mremap: %w", e)
	}
	placed = true
	return nil
}

// readOwnMemory fills dst with the process's memory at addr, read through
// /proc/self/mem (the code is not Go memory: no pointer to it is made).
func readOwnMemory(dst []byte, addr uintptr) error {
	mem, err := os.Open("/proc/self/mem")
	if err != nil {
		return err
	}
	defer mem.Close()
	if _, err := mem.ReadAt(dst, int64(addr)); err != nil {
		return fmt.Errorf("read the code at %#x: %w", addr, err)
	}
	return nil
}

func munmap(addr, size uintptr) { _, _, _ = unix.Syscall(unix.SYS_MUNMAP, addr, size, 0) }

// codeMapping returns the bounds of the executable mapping that holds pc.
// It reads /proc/self/maps: smaps would count every mapping's pages for
// fields this does not read.
func codeMapping(pc uintptr) (start, end uintptr, err error) {
	err = eachMapping(selfMaps, func(lo, hi uintptr, perms string, _ func(string) (int, bool)) bool {
		if lo <= pc && pc < hi && strings.Contains(perms, "x") {
			start, end = lo, hi
			return false
		}
		return true
	})
	if err == nil && end == 0 {
		err = fmt.Errorf("no executable mapping holds %#x", pc)
	}
	return start, end, err
}

// onHugePage reports whether the mapping that starts at addr is backed by
// a huge page (its AnonHugePages in /proc/self/smaps).
func onHugePage(addr uintptr) (bool, error) {
	huge, found := false, false
	err := eachMapping(selfSmaps, func(lo, _ uintptr, _ string, field func(string) (int, bool)) bool {
		if lo != addr {
			return true
		}
		found = true
		kb, _ := field("AnonHugePages")
		huge = kb >= pageSize>>10
		return false
	})
	if err == nil && !found {
		err = fmt.Errorf("no mapping at %#x in %s", addr, selfSmaps)
	}
	return huge, err
}

// The process's own mappings: their lines alone, and with their fields.
const (
	selfMaps  = "/proc/self/maps"
	selfSmaps = "/proc/self/smaps"
)

// eachMapping calls f for each mapping listed in path (selfMaps or
// selfSmaps), with its bounds, its permissions and a lookup of its fields
// (in kB; none in selfMaps), until f returns false.
func eachMapping(path string, f func(lo, hi uintptr, perms string, field func(string) (int, bool)) bool) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	var lo, hi uintptr
	var perms string
	fields := map[string]int{}
	pending := false
	lookup := func(name string) (int, bool) { v, ok := fields[name]; return v, ok }
	flush := func() bool {
		if !pending {
			return true
		}
		pending = false
		return f(lo, hi, perms, lookup)
	}
	for sc.Scan() {
		line := sc.Text()
		if l, h, p, ok := mappingHeader(line); ok {
			if !flush() {
				return nil
			}
			lo, hi, perms, pending = l, h, p, true
			clear(fields)
			continue
		}
		name, rest, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(rest), " kB")); err == nil {
			fields[name] = kb
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("read %s: %w", path, err)
	}
	flush()
	return nil
}

// mappingHeader parses the first line of a mapping in smaps:
// "00400000-00600000 r-xp 00000000 fe:00 123 /path".
func mappingHeader(line string) (lo, hi uintptr, perms string, ok bool) {
	bounds, rest, found := strings.Cut(line, " ")
	if !found {
		return 0, 0, "", false
	}
	l, h, found := strings.Cut(bounds, "-")
	if !found {
		return 0, 0, "", false
	}
	a, err1 := strconv.ParseUint(l, 16, 64)
	b, err2 := strconv.ParseUint(h, 16, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, "", false
	}
	perms, _, _ = strings.Cut(rest, " ")
	return uintptr(a), uintptr(b), perms, true
}
