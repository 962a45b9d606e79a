package server

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/sandbox-api/sandbox-api/process"
)

// TestExecFramesOutput: each chunk is one frame whose data is the chunk's
// bytes, escaped as the JSON writer does everywhere; one writer serves
// every frame without carrying anything from one to the next.
func TestExecFramesOutput(t *testing.T) {
	for _, tc := range []struct {
		name   string
		chunks []process.Chunk
		want   string
	}{
		{"newlines kept", []process.Chunk{{Stream: process.Stdout, Data: []byte("a\nb")}, {Stream: process.Stdout, Data: []byte("c\n")}},
			`{"type":"stdout","data":"a\nb"}` + "\n" + `{"type":"stdout","data":"c\n"}` + "\n"},
		{"empty line", []process.Chunk{{Stream: process.Stderr, Data: []byte("\n")}},
			`{"type":"stderr","data":"\n"}` + "\n"},
		{"escapes, no HTML escaping", []process.Chunk{{Stream: process.Stdout, Data: []byte("\"<&>\\\t\x01")}},
			`{"type":"stdout","data":"\"<&>\\\t\u0001"}` + "\n"},
		{"not UTF-8", []process.Chunk{{Stream: process.Stdout, Data: []byte("a\xffb")}},
			`{"type":"stdout","data":"a\ufffdb"}` + "\n"},
		{"an unfinished character ends its own frame", []process.Chunk{{Stream: process.Stdout, Data: []byte("x\xe2\x82")}, {Stream: process.Stderr, Data: []byte("\xacy")}},
			`{"type":"stdout","data":"x\ufffd"}` + "\n" + `{"type":"stderr","data":"\ufffdy"}` + "\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			bw := newStreamBuffer(&out)
			f := newExecFrames(bw)
			for _, c := range tc.chunks {
				if err := f.output(c); err != nil {
					t.Fatal(err)
				}
			}
			_ = bw.Flush()
			if out.String() != tc.want {
				t.Errorf("frames\n%s\nwant\n%s", out.String(), tc.want)
			}
		})
	}
}

// TestExecFramesLarge: a chunk larger than the string writer's buffer is
// still one frame, whole.
func TestExecFramesLarge(t *testing.T) {
	data := strings.Repeat("é\"x\n", 40<<10)
	var out bytes.Buffer
	bw := newStreamBuffer(&out)
	f := newExecFrames(bw)
	if err := f.output(process.Chunk{Stream: process.Stdout, Data: []byte(data)}); err != nil {
		t.Fatal(err)
	}
	_ = f.keepalive()
	_ = bw.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var fr struct{ Type, Data string }
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &fr) != nil || fr.Type != "stdout" || fr.Data != data {
		t.Fatalf("%d lines; first frame %s %d bytes, want stdout with the %d bytes", len(lines), fr.Type, len(fr.Data), len(data))
	}
	if lines[1] != `{"type":"keepalive"}` {
		t.Errorf("keepalive frame %q", lines[1])
	}
}

// TestExecFramesResult: the result frame carries what it is given as a
// JSON string, and the error frame its message.
func TestExecFramesResult(t *testing.T) {
	var out bytes.Buffer
	bw := newStreamBuffer(&out)
	f := newExecFrames(bw)
	_ = f.error("process timed out after 1 seconds")
	record := `{"pid":"1","logs":"a\n\"b\""}`
	if err := f.result(func(w io.Writer) error { _, err := io.WriteString(w, record); return err }); err != nil {
		t.Fatal(err)
	}
	_ = bw.Flush()
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	var e, r struct{ Type, Data string }
	if len(lines) != 2 || json.Unmarshal([]byte(lines[0]), &e) != nil || json.Unmarshal([]byte(lines[1]), &r) != nil {
		t.Fatalf("frames %q", out.String())
	}
	if e.Type != "error" || e.Data != "process timed out after 1 seconds" || r.Type != "result" || r.Data != record {
		t.Errorf("error frame %+v, result frame %+v", e, r)
	}
}
