package server

import (
	"io"

	"github.com/sandbox-api/sandbox-api/process"
)

// execFrames writes the ndjson frames of a streamed exec:
// {"type":"stdout"|"stderr","data":"..."}, {"type":"keepalive"},
// {"type":"error","data":"..."} and last {"type":"result","data":"<the
// ProcessResponse as a JSON string>"}, one per line.
type execFrames struct {
	w frameWriter
	// data escapes the result into w. Bytes that are not UTF-8 become
	// U+FFFD, as everywhere else in the API.
	data *jsonStringWriter
}

// frameWriter is the buffered writer frames go to (streamBuffer).
type frameWriter interface {
	io.Writer
	io.StringWriter
	Append(need int, fill func(dst []byte) []byte) error
}

func newExecFrames(w frameWriter) *execFrames {
	return &execFrames{w: w, data: newJSONStringWriter(w)}
}

// output writes one chunk of output as a frame, escaped straight into the
// stream's buffer.
func (f *execFrames) output(c process.Chunk) error {
	return f.w.Append(len(c.Data)+len(c.Data)/8+64, func(dst []byte) []byte {
		dst = append(dst, `{"type":"`...)
		dst = append(dst, c.Stream.String()...)
		dst = append(dst, `","data":"`...)
		dst = appendJSONString(dst, c.Data)
		return append(dst, "\"}\n"...)
	})
}

func (f *execFrames) keepalive() error {
	_, err := f.w.WriteString(`{"type":"keepalive"}` + "\n")
	return err
}

// error writes an error frame. The SDK ignores these: anything that
// prevents a start is an HTTP error before the stream begins.
func (f *execFrames) error(msg string) error {
	b, err := encodeJSON(struct {
		Type string `json:"type"`
		Data string `json:"data"`
	}{"error", msg})
	if err != nil {
		return err
	}
	_, err = f.w.Write(b)
	return err
}

// result writes the result frame: what write produces (the process
// record), as a JSON string.
func (f *execFrames) result(write func(io.Writer) error) error {
	_, _ = f.w.WriteString(`{"type":"result","data":"`)
	if err := write(f.data); err != nil {
		return err
	}
	if err := f.data.Close(); err != nil {
		return err
	}
	_, err := f.w.WriteString("\"}\n")
	return err
}
