//go:build amd64 && !purego

package md5lanes

import "github.com/sandbox-api/sandbox-api/internal/cpufeat"

//go:generate go run gen_blocks8.go

// blocks8 runs n blocks of each of the eight lanes through MD5's
// compression function: state[0][l], state[1][l], state[2][l] and
// state[3][l] are a, b, c and d of lane l, which reads n*64 bytes from
// lanes[l]. It needs AVX-512F and AVX-512VL (see lanesWork).
//
//go:noescape
func blocks8(state *[4][8]uint32, lanes *[8]*byte, n int)

// lanesWork reports whether this CPU and OS run blocks8.
func lanesWork() bool { return cpufeat.AVX512VL() }
