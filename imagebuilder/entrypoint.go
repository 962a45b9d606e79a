package imagebuilder

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path"
	"strings"
)

// ErrForeignEntrypoint is wrapped by Run's error when a sandbox never
// answered and its image's entrypoint is not one that starts the sandbox
// API: a custom Entrypoint step replaces entrypoint.sh, so nothing starts
// the API unless the new entrypoint does.
var ErrForeignEntrypoint = errors.New("the image's entrypoint does not start the sandbox API")

// foreignEntrypoint inspects image and returns ErrForeignEntrypoint, saying
// what to do instead, when its entrypoint starts no sandbox API; nil when it
// does or cannot be told.
func foreignEntrypoint(ctx context.Context, dockerCmd func(context.Context, ...string) *exec.Cmd, image string) error {
	out, err := dockerCmd(ctx, "image", "inspect", "-f", "{{json .Config.Entrypoint}}", image).Output()
	if err != nil {
		return nil // the health error says enough
	}
	var entrypoint []string // JSON null: no entrypoint at all
	if json.Unmarshal(bytes.TrimSpace(out), &entrypoint) != nil || startsAPI(entrypoint) {
		return nil
	}
	const instead = "run the program with Cmd, or as a startup command in SANDBOX_STARTUP (Env), instead of Entrypoint"
	if len(entrypoint) == 0 {
		return fmt.Errorf("%w: the image has no entrypoint, so nothing starts it (/entrypoint.sh does); %s",
			ErrForeignEntrypoint, instead)
	}
	return fmt.Errorf("%w: its entrypoint %q replaces the one that starts it (/entrypoint.sh); %s",
		ErrForeignEntrypoint, entrypoint, instead)
}

// startsAPI tells whether an entrypoint runs the sandbox API: the
// entrypoint.sh that Build adds (or a copy of it), or the daemon itself, as
// the published image does. Shell forms are searched word by word.
func startsAPI(entrypoint []string) bool {
	for _, arg := range entrypoint {
		for _, word := range strings.Fields(arg) {
			switch path.Base(word) {
			case "entrypoint.sh", "sandbox-api":
				return true
			}
		}
	}
	return false
}
