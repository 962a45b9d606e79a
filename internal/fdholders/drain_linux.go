package fdholders

import "time"

// AwaitDrained waits, after a child exited, for its output to reach end of
// file (drained closed). A background child may hold the output open for
// as long as it lives, so the wait ends after grace when another process
// holds one of files(). When none does, end of file is already there and
// only the reader is late (a loaded machine): the wait goes on, up to
// limit more, so that whoever waits for the end finds all the output.
// files is called only when grace runs out.
func AwaitDrained(drained <-chan struct{}, grace, limit time.Duration, files func() []ID) {
	select {
	case <-drained: // the common case, on the way to the end's answer: no timer
		return
	default:
	}
	t := time.NewTimer(grace)
	defer t.Stop()
	select {
	case <-drained:
		return
	case <-t.C:
	}
	if HeldElsewhere(files()) {
		return
	}
	t.Reset(limit)
	select {
	case <-drained:
	case <-t.C:
	}
}
