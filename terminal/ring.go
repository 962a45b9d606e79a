package terminal

// DefaultScrollback is the output kept for replay to new clients.
const DefaultScrollback = 256 << 10

// ring keeps the last cap bytes written to it.
type ring struct {
	buf  []byte
	size int
}

func newRing(size int) *ring { return &ring{size: size} }

func (r *ring) Write(p []byte) {
	if len(p) >= r.size {
		r.buf = append(r.buf[:0], p[len(p)-r.size:]...)
		return
	}
	if over := len(r.buf) + len(p) - r.size; over > 0 {
		// Shift rather than wrap: writes are small and this keeps reads a
		// plain copy.
		r.buf = append(r.buf[:0], r.buf[over:]...)
	}
	r.buf = append(r.buf, p...)
}

// Bytes returns a copy of the kept output.
func (r *ring) Bytes() []byte { return append([]byte(nil), r.buf...) }
