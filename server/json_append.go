package server

import (
	"unicode/utf8"
	"unsafe"
)

// Answers with a fixed shape (health, a process) are appended by hand
// instead of through encoding/json's reflection, which cost an exec's
// answer 3–5 µs more (cold caches: the child ran in between); each is
// checked against encoding/json's spelling.

// appendJSONField appends key, then s as a JSON string spelled as
// encoding/json spells it.
func appendJSONField(b []byte, key, s string) []byte {
	b = append(append(b, key...), '"')
	return append(appendWholeJSONString(b, s), '"')
}

// appendWholeJSONString is appendJSONString for a string that ends where
// it ends: a character it cuts short is invalid, and encoding/json writes
// U+FFFD for each of its bytes (appendJSONString, made for chunks of a
// stream, writes one for the whole).
func appendWholeJSONString(b []byte, s string) []byte {
	whole := len(s)
	for cut := cutShort(s); cut > 0; cut = cutShort(s[:whole]) {
		whole -= cut
	}
	// Read in place: the escaping only reads its input.
	b = appendJSONString(b, unsafe.Slice(unsafe.StringData(s), whole))
	for range len(s) - whole {
		b = append(b, `\ufffd`...)
	}
	return b
}

// cutShort is the length of the character that s ends before completing,
// or 0.
func cutShort(s string) int {
	for k := 1; k <= min(utf8.UTFMax-1, len(s)); k++ {
		if utf8.RuneStart(s[len(s)-k]) {
			if utf8.FullRuneInString(s[len(s)-k:]) {
				return 0
			}
			return k
		}
	}
	return 0
}
