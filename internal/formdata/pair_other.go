//go:build !amd64 || purego

package formdata

// indexPair returns the index of the first c0 followed by c1 in b, or -1.
func indexPair(b []byte, c0, c1 byte) int { return indexPairGeneric(b, c0, c1) }
