//go:build amd64 && !purego

package cpufeat

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax uint32)

// detect reads CPUID leaves 1 and 7 and the OS's enabled state (XCR0).
func detect() set {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return set{}
	}
	const osxsave = 1 << 27
	if _, _, ecx, _ := cpuid(1, 0); ecx&osxsave == 0 {
		return set{}
	}
	xcr0 := xgetbv0()
	const (
		avxState    = 1<<1 | 1<<2        // SSE and AVX registers
		avx512State = 1<<5 | 1<<6 | 1<<7 // opmask, upper halves of Z0-Z15, Z16-Z31
		avx2        = 1 << 5
		avx512F     = 1 << 16
		avx512VL    = 1 << 31
	)
	_, ebx, _, _ := cpuid(7, 0)
	osAVX := xcr0&avxState == avxState
	return set{
		avx2:     osAVX && ebx&avx2 != 0,
		avx512vl: osAVX && xcr0&avx512State == avx512State && ebx&avx512F != 0 && ebx&avx512VL != 0,
	}
}
