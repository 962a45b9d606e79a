// Package handover carries the daemon's state from one image of its binary
// to the next across an in-place re-exec (POST /upgrade, SIGUSR2): same
// PID, so the processes the daemon started stay its children, and their
// pipes, ptys and the listening socket stay open across the switch.
package handover

import (
	"encoding/json"
	"fmt"
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

// ReadState decodes f's state into st, a struct whose "version" field
// numbers its format, and refuses any version but want: a build reads only
// the formats it knows, and says so rather than guess.
func (f Frozen) ReadState(st any, want int) error {
	var v struct {
		Version int `json:"version"`
	}
	if err := json.Unmarshal(f.State, &v); err != nil {
		return fmt.Errorf("read the state: %w", err)
	}
	if v.Version != want {
		return fmt.Errorf("state version %d, this build reads %d", v.Version, want)
	}
	if err := json.Unmarshal(f.State, st); err != nil {
		return fmt.Errorf("read the state: %w", err)
	}
	return nil
}
