package server

import (
	"unicode/utf8"
)

// decodeFast fills b from data when data is a body of the plain shape
// clients send (each field of the contract at most once, spelled as the
// contract spells it, with plain strings, integers, booleans, an object
// of strings and an array of integers), and reports whether it did; b is
// left zero when it did not, for encoding/json to decode data instead. It
// gives exactly what encoding/json gives for the bodies it takes (tested
// against it), without reflection: on the 2-core VM, timed in place on
// the way of an exec to its fork, the decoder took some 8 µs of the
// request's 13 (docs/measured.md).
//
// Anything else (an escape, a null, a fraction, a field of another name
// or case, one given twice, invalid UTF-8, data after the object) is
// encoding/json's to decode, or to word the error of.
func (b *processRequest) decodeFast(data []byte) bool {
	if decodeProcessRequest(data, b) {
		return true
	}
	*b = processRequest{}
	return false
}

// processRequestField is a field decodeProcessRequest knows, as a bit of
// the set of fields seen.
type processRequestField uint16

const (
	fieldCommand processRequestField = 1 << iota
	fieldName
	fieldWorkingDir
	fieldEnv
	fieldWaitForCompletion
	fieldTimeout
	fieldWaitForPorts
	fieldRestartOnFailure
	fieldMaxRestarts
	fieldKeepAlive
	fieldStdin
)

func decodeProcessRequest(data []byte, b *processRequest) bool {
	s := plainJSON{data: data}
	var seen processRequestField
	return s.expect('{') && s.members('}', func() bool {
		key, ok := s.plainString()
		if !ok || !s.expect(':') {
			return false
		}
		// One case per field, each assigning its own member: the
		// reflection this replaces, written out.
		var field processRequestField
		switch string(key) { // no allocation: the compiler compares in place
		case "command":
			field = fieldCommand
			b.Command, ok = s.stringValue()
		case "name":
			field = fieldName
			b.Name, ok = s.stringValue()
		case "workingDir":
			field = fieldWorkingDir
			b.WorkingDir, ok = s.stringValue()
		case "env":
			field = fieldEnv
			b.Env, ok = s.stringMap()
		case "waitForCompletion":
			field = fieldWaitForCompletion
			b.WaitForCompletion, ok = s.boolean()
		case "timeout":
			field = fieldTimeout
			var n int
			if n, ok = s.integer(); ok {
				b.Timeout = &n
			}
		case "waitForPorts":
			field = fieldWaitForPorts
			b.WaitForPorts, ok = s.intArray()
		case "restartOnFailure":
			field = fieldRestartOnFailure
			b.RestartOnFailure, ok = s.boolean()
		case "maxRestarts":
			field = fieldMaxRestarts
			b.MaxRestarts, ok = s.integer()
		case "keepAlive":
			field = fieldKeepAlive
			b.KeepAlive, ok = s.boolean()
		case "stdin":
			field = fieldStdin
			b.Stdin, ok = s.boolean()
		default:
			return false
		}
		if !ok || seen&field != 0 {
			return false
		}
		seen |= field
		return true
	}) && s.atEnd()
}

// plainJSON reads the plain subset of JSON decodeFast takes. Each method
// skips the white space before what it reads and reports false on
// anything outside the subset.
type plainJSON struct {
	data []byte
	i    int
}

func (s *plainJSON) skipSpace() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// next is the next byte after white space, consumed; 0 at the end.
func (s *plainJSON) next() byte {
	s.skipSpace()
	if s.i >= len(s.data) {
		return 0
	}
	c := s.data[s.i]
	s.i++
	return c
}

// expect consumes the next byte after white space and reports whether it
// is c.
func (s *plainJSON) expect(c byte) bool { return s.next() == c }

// peekIs reports whether the next byte after white space is c, without
// consuming it.
func (s *plainJSON) peekIs(c byte) bool {
	s.skipSpace()
	return s.i < len(s.data) && s.data[s.i] == c
}

// atEnd reports whether only white space is left.
func (s *plainJSON) atEnd() bool {
	s.skipSpace()
	return s.i == len(s.data)
}

// plainString is a string without escapes or control characters, in
// valid UTF-8 (encoding/json would replace invalid bytes), as it stands
// in data.
func (s *plainJSON) plainString() ([]byte, bool) {
	if !s.expect('"') {
		return nil, false
	}
	start, ascii := s.i, true
	for ; s.i < len(s.data); s.i++ {
		switch c := s.data[s.i]; {
		case c == '"':
			str := s.data[start:s.i]
			s.i++
			return str, ascii || utf8.Valid(str)
		case c == '\\' || c < 0x20:
			return nil, false
		case c >= utf8.RuneSelf:
			ascii = false
		}
	}
	return nil, false
}

func (s *plainJSON) stringValue() (string, bool) {
	str, ok := s.plainString()
	return string(str), ok
}

func (s *plainJSON) boolean() (bool, bool) {
	s.skipSpace()
	rest := s.data[s.i:]
	switch {
	case len(rest) >= 4 && string(rest[:4]) == "true":
		s.i += 4
		return true, true
	case len(rest) >= 5 && string(rest[:5]) == "false":
		s.i += 5
		return false, true
	}
	return false, false
}

// integer is -?(0|[1-9][0-9]*) of at most 18 digits (always within int),
// with no fraction or exponent (encoding/json refuses those for an int;
// its error says so).
func (s *plainJSON) integer() (int, bool) {
	s.skipSpace()
	neg := s.i < len(s.data) && s.data[s.i] == '-'
	if neg {
		s.i++
	}
	start, n := s.i, 0
	for s.i < len(s.data) && s.data[s.i] >= '0' && s.data[s.i] <= '9' {
		n = n*10 + int(s.data[s.i]-'0')
		s.i++
	}
	digits := s.i - start
	if digits == 0 || digits > 18 || (digits > 1 && s.data[start] == '0') {
		return 0, false
	}
	if s.i < len(s.data) {
		switch s.data[s.i] {
		case '.', 'e', 'E':
			return 0, false
		}
	}
	if neg {
		n = -n
	}
	return n, true
}

// members reads the members of an object or array whose opening byte is
// read, each with member, separated by commas, up to close: nothing at
// all, or members each followed by a comma or close. It reports false on
// anything else, or as soon as member does.
func (s *plainJSON) members(close byte, member func() bool) bool {
	if s.peekIs(close) {
		s.i++
		return true
	}
	for {
		if !member() {
			return false
		}
		switch s.next() {
		case ',':
		case close:
			return true
		default:
			return false
		}
	}
}

// intArray is an array of integers; [] is an empty slice, not nil, as
// encoding/json makes it.
func (s *plainJSON) intArray() ([]int, bool) {
	out := []int{}
	ok := s.expect('[') && s.members(']', func() bool {
		n, ok := s.integer()
		out = append(out, n)
		return ok
	})
	if !ok {
		return nil, false
	}
	return out, true
}

// stringMap is an object of strings; a name given twice keeps its last
// value, as encoding/json does.
func (s *plainJSON) stringMap() (map[string]string, bool) {
	out := map[string]string{}
	ok := s.expect('{') && s.members('}', func() bool {
		key, ok := s.plainString()
		if !ok || !s.expect(':') {
			return false
		}
		value, ok := s.stringValue()
		out[string(key)] = value
		return ok
	})
	if !ok {
		return nil, false
	}
	return out, true
}
