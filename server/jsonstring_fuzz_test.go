package server

import (
	"bytes"
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// writeJSONString runs data through a jsonStringWriter in the given chunks
// and returns the quoted result.
func writeJSONString(t *testing.T, chunks [][]byte) []byte {
	t.Helper()
	var out bytes.Buffer
	out.WriteByte('"')
	jw := newJSONStringWriter(&out)
	for _, c := range chunks {
		if n, err := jw.Write(c); err != nil || n != len(c) {
			t.Fatalf("Write: %d, %v", n, err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('"')
	return out.Bytes()
}

// FuzzJSONStringWriter: whatever the bytes and however they are chunked,
// the output is one valid JSON string, the same for every chunking, and it
// decodes to the input when the input is valid UTF-8.
func FuzzJSONStringWriter(f *testing.F) {
	for _, s := range []string{"", "plain", "a\"b\\c\n\r\t\x00\x1f", "héllo 世界 🎉", "a\xffb", "ab\xe4\xb8",
		"\xe4\xb8A", "x\u2028y\u2029z", "\xf0\x9f\x8e", "\xed\xa0\x80", "\xc0\xaf"} {
		f.Add([]byte(s), uint8(1))
	}
	f.Add(bytes.Repeat([]byte("\x01"), 5000), uint8(7)) // escapes six times the input
	f.Fuzz(func(t *testing.T, data []byte, split uint8) {
		whole := writeJSONString(t, [][]byte{data})
		var got string
		if err := json.Unmarshal(whole, &got); err != nil {
			t.Fatalf("not one JSON string %q: %v", whole, err)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("decoded to invalid UTF-8 %q", got)
		}
		if utf8.Valid(data) && got != string(data) {
			t.Fatalf("valid input %q decoded to %q", data, got)
		}
		// Spelled as encoding/json spells it, escape for escape: clients
		// that compare answers as text see the existing daemon's spelling.
		if want, err := encodeJSON(string(data)); err == nil && utf8.Valid(data) && !bytes.Equal(whole, bytes.TrimSuffix(want, []byte("\n"))) {
			t.Fatalf("%q spelled %s, encoding/json: %s", data, whole, want)
		}
		// appendJSONString, which frames use, gives the same string.
		if got := appendJSONString([]byte{'"'}, data); !bytes.Equal(append(got, '"'), whole) {
			t.Fatalf("appendJSONString: %q, the writer: %q", append(got, '"'), whole)
		}
		// The same bytes in pieces of split+1 bytes, and byte by byte.
		step := int(split) + 1
		var pieces, bytesOneByOne [][]byte
		for i := 0; i < len(data); i += step {
			pieces = append(pieces, data[i:min(i+step, len(data))])
		}
		for i := range data {
			bytesOneByOne = append(bytesOneByOne, data[i:i+1])
		}
		for name, chunks := range map[string][][]byte{"pieces": pieces, "bytes": bytesOneByOne} {
			if out := writeJSONString(t, chunks); !bytes.Equal(out, whole) {
				t.Fatalf("written as %s: %q, written whole: %q", name, out, whole)
			}
		}
	})
}
