package server

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestJSONStringWriterMatchesEncodingJSON(t *testing.T) {
	cases := []struct {
		name   string
		chunks []string
		want   string // the decoded string, when it differs from the input
	}{
		{name: "plain", chunks: []string{"hello world"}},
		{name: "escapes", chunks: []string{"a\"b\\c\nd\re\tf\x00g\x1f"}},
		{name: "unicode", chunks: []string{"héllo → 世界 🎉"}},
		{name: "rune split across writes", chunks: []string{"a\xe4\xb8", "\x96b"}, want: "a世b"},
		{name: "emoji split in three", chunks: []string{"\xf0\x9f", "\x8e", "\x89"}, want: "🎉"},
		{name: "invalid byte", chunks: []string{"a\xffb"}, want: "a\ufffdb"},
		{name: "unfinished rune at end", chunks: []string{"ab\xe4\xb8"}, want: "ab\ufffd"},
		{name: "line separators", chunks: []string{"x\u2028y\u2029z"}},
		{name: "empty", chunks: []string{""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			out.WriteByte('"')
			jw := newJSONStringWriter(&out)
			var in string
			for _, c := range tc.chunks {
				in += c
				if _, err := jw.Write([]byte(c)); err != nil {
					t.Fatal(err)
				}
			}
			if err := jw.Close(); err != nil {
				t.Fatal(err)
			}
			out.WriteByte('"')
			var got string
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("not valid JSON %q: %v", out.String(), err)
			}
			want := tc.want
			if want == "" {
				want = in
			}
			if got != want {
				t.Fatalf("decoded %q, want %q", got, want)
			}
		})
	}
}

func TestJSONStringWriterLargeInput(t *testing.T) {
	big := bytes.Repeat([]byte("line \"quoted\" \\ é\n"), 20000)
	var out bytes.Buffer
	out.WriteByte('"')
	jw := newJSONStringWriter(&out)
	for i := 0; i < len(big); i += 4093 { // odd chunk size splits runes
		end := min(i+4093, len(big))
		if _, err := jw.Write(big[i:end]); err != nil {
			t.Fatal(err)
		}
	}
	if err := jw.Close(); err != nil {
		t.Fatal(err)
	}
	out.WriteByte('"')
	var got string
	if err := json.Unmarshal(out.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	if got != string(big) {
		t.Fatalf("round trip differs: got %d bytes, want %d", len(got), len(big))
	}
}
