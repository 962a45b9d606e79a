package process

import (
	"fmt"
	"os"
	"sync"
)

// outputPipes are one attempt's stdout and stderr pipes: the read ends for
// its pumps, the write ends for its child.
type outputPipes struct {
	outR, errR *os.File
	outW, errW pipeWriteEnd
}

// makeOutputPipes makes a set of output pipes (outputPipe, twice).
func makeOutputPipes() (*outputPipes, error) {
	outR, outW, err := outputPipe()
	if err != nil {
		return nil, fmt.Errorf("stdout pipe: %w", err)
	}
	errR, errW, err := outputPipe()
	if err != nil {
		closeAll(outR)
		outW.close()
		return nil, fmt.Errorf("stderr pipe: %w", err)
	}
	return &outputPipes{outR: outR, outW: outW, errR: errR, errW: errW}, nil
}

func (o *outputPipes) close() {
	closeAll(o.outR, o.errR)
	o.outW.close()
	o.errW.close()
}

// pipesAhead holds one set of output pipes made before the start that
// takes it. Making a set is four system calls (two pipes; os.NewFile looks
// at each read end's flags), once ten, when they cost some 13 µs of a
// start's way to its fork on a loaded 2-core machine. Made ahead, they cost the
// start nothing: each start has the next set made while its child runs
// (refill). It never holds more than one set (four descriptors, close on
// exec), and none before the first start.
type pipesAhead struct {
	mu  sync.Mutex
	set *outputPipes
	// making is set while a refill makes a set (others need not make one
	// too), and closed once that refill is done with it.
	making chan struct{}
	closed bool // the manager shut down: no set is kept any more
}

// take returns the set made ahead, or makes one if there is none.
func (a *pipesAhead) take() (*outputPipes, error) {
	a.mu.Lock()
	set := a.set
	a.set = nil
	a.mu.Unlock()
	if set != nil {
		return set, nil
	}
	return makeOutputPipes()
}

// refill makes the set the next start takes, unless one is ready or being
// made. A failure (no descriptors left) is not kept: the next start meets
// it again and reports it. A set made once the manager shut down is closed.
func (a *pipesAhead) refill() {
	a.mu.Lock()
	if a.set != nil || a.making != nil || a.closed {
		a.mu.Unlock()
		return
	}
	done := make(chan struct{})
	a.making = done
	a.mu.Unlock()
	defer close(done)
	set, err := makeOutputPipes()
	a.mu.Lock()
	a.making = nil
	if err == nil && !a.closed { // only one refill makes at a time: none is held
		a.set, set = set, nil
	}
	a.mu.Unlock()
	if set != nil {
		set.close()
	}
}

// close closes the set held, if any, waits for a refill under way (which
// closes the set it makes), and keeps none from then on: once it returns,
// no set of pipes is open but those starts took. take still makes sets (a
// restart may come during a shutdown).
func (a *pipesAhead) close() {
	a.mu.Lock()
	set, making := a.set, a.making
	a.set, a.closed = nil, true
	a.mu.Unlock()
	if set != nil {
		set.close()
	}
	if making != nil {
		<-making
	}
}
