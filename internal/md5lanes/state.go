package md5lanes

import (
	"encoding"
	"encoding/binary"
	"hash"
)

// crypto/md5 saves its state (encoding.BinaryAppender) as this magic, the
// four words a, b, c and d big-endian, the 64-byte block buffer and the
// length written, big-endian: the one way to run its compression (which
// is written in assembly for this platform) on a state of ours, and to
// hand a state back to it. A format it no longer writes is seen at once
// (exportState fails) and the stream is hashed by crypto/md5 alone.
const (
	stateMagic = "md5\x01"
	stateSize  = len(stateMagic) + 4*4 + 64 + 8
)

// state is where an MD5 stream stands at a block boundary.
type state struct {
	s [4]uint32
	n uint64 // bytes hashed, a multiple of 64
}

// exportState reads h's state; ok is false unless h is a crypto/md5
// digest at a block boundary, saved in the format above.
func exportState(h hash.Hash, scratch *[stateSize]byte) (st state, ok bool) {
	a, isAppender := h.(encoding.BinaryAppender)
	if !isAppender {
		return st, false
	}
	b, err := a.AppendBinary(scratch[:0])
	if err != nil || len(b) != stateSize || string(b[:len(stateMagic)]) != stateMagic {
		return st, false
	}
	for i := range st.s {
		st.s[i] = binary.BigEndian.Uint32(b[len(stateMagic)+4*i:])
	}
	st.n = binary.BigEndian.Uint64(b[stateSize-8:])
	return st, st.n%64 == 0
}

// importState makes st h's state; h must be a crypto/md5 digest whose
// state exportState could read.
func importState(h hash.Hash, st state, scratch *[stateSize]byte) error {
	b := scratch[:0]
	b = append(b, stateMagic...)
	for _, w := range st.s {
		b = binary.BigEndian.AppendUint32(b, w)
	}
	b = append(b, make([]byte, 64)...)
	b = binary.BigEndian.AppendUint64(b, st.n)
	return h.(encoding.BinaryUnmarshaler).UnmarshalBinary(b)
}
