// Package handover carries the daemon's state from one image of its binary
// to the next across an in-place re-exec (POST /upgrade, SIGUSR2): same
// PID, so the processes the daemon started stay its children, and their
// pipes, ptys and the listening socket stay open across the switch.
package handover

import (
	"encoding/json"
	"os"
)

// Frozen is what one domain package hands to the next image of the daemon:
// a state it encodes itself (versioned by its own fields) and the open
// descriptors that state refers to by their index in Files. A package that
// froze serves nothing more until the process re-executes, or until it
// thaws because the switch was abandoned before the exec.
type Frozen struct {
	State json.RawMessage `json:"state"`
	// Files are kept open across the exec; the state names them by index.
	Files []*os.File `json:"-"`
}
