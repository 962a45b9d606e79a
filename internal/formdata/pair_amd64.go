//go:build amd64 && !purego

package formdata

import "github.com/sandbox-api/sandbox-api/internal/cpufeat"

//go:noescape
func indexPairAVX2(b []byte, c0, c1 byte) int

// indexPair returns the index of the first c0 followed by c1 in b, or -1.
func indexPair(b []byte, c0, c1 byte) int {
	if len(b) >= 64 && cpufeat.AVX2() {
		return indexPairAVX2(b, c0, c1)
	}
	return indexPairGeneric(b, c0, c1)
}
