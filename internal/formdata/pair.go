package formdata

import "bytes"

// indexDelim is bytes.Index(b, delim) for the delimiter of a field's end
// ("\r\n--boundary", or "\n--boundary"), found through its first two bytes
// (indexPair). In a file's bytes those two meet far less often than the
// first alone, which bytes.Index looks for: it stopped at each '\r' of the
// file, one in 256 bytes of random data, and that search was the
// upload's largest cost after the copies and the etag.
func indexDelim(b, delim []byte) int {
	for from := 0; ; {
		i := indexPair(b[from:], delim[0], delim[1])
		if i < 0 {
			return -1
		}
		i += from
		if bytes.HasPrefix(b[i:], delim) {
			return i
		}
		from = i + 1
	}
}

// indexPairGeneric is indexPair without the vector loop.
func indexPairGeneric(b []byte, c0, c1 byte) int { return bytes.Index(b, []byte{c0, c1}) }
