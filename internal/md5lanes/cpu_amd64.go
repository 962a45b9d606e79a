//go:build amd64 && !purego

package md5lanes

//go:generate go run gen_blocks8.go

import "sync"

// blocks8 runs n blocks of each of the eight lanes through MD5's
// compression function: state[0][l], state[1][l], state[2][l] and
// state[3][l] are a, b, c and d of lane l, which reads n*64 bytes from
// lanes[l]. It needs AVX-512F and AVX-512VL (see lanesWork).
//
//go:noescape
func blocks8(state *[4][8]uint32, lanes *[8]*byte, n int)

func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

func xgetbv0() (eax uint32)

// lanesWork reports whether this CPU and OS run blocks8: AVX-512F and
// AVX-512VL, with the OS saving the AVX-512 registers (XCR0). It is asked
// on first use, not at start-up: a CPUID under a hypervisor is an exit to
// it, which every start would pay.
var lanesWork = sync.OnceValue(func() bool {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 7 {
		return false
	}
	const osxsave = 1 << 27
	if _, _, ecx, _ := cpuid(1, 0); ecx&osxsave == 0 {
		return false
	}
	// SSE, AVX, the opmask registers and the upper ZMM state.
	const avx512State = 1<<1 | 1<<2 | 1<<5 | 1<<6 | 1<<7
	if xgetbv0()&avx512State != avx512State {
		return false
	}
	const avx512F, avx512VL = 1 << 16, 1 << 31
	_, ebx, _, _ := cpuid(7, 0)
	return ebx&avx512F != 0 && ebx&avx512VL != 0
})
