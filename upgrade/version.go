package upgrade

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"
	"syscall"
	"time"

	"github.com/sandbox-api/sandbox-api/internal/handover"
)

// askVersion runs `path --version` and returns the version it says. The
// answer must come within the timeout, exit 0, start like this daemon's
// own ("sandbox-api <version> ..."), and say that the binary reads this
// daemon's hand-over state (handover.VersionNote). The binary runs as a
// child the reaper leaves alone, in its own process group (killed whole
// at the timeout), in /, with nothing of the daemon's environment but
// PATH, and its output is bounded.
func (u *Upgrader) askVersion(ctx context.Context, path string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, u.cfg.VersionTimeout)
	defer cancel()
	var out boundedBuffer
	var err error
	for attempt := 0; ; attempt++ {
		out.Reset()
		cmd := exec.CommandContext(ctx, path, "--version")
		cmd.Dir = "/"
		cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}
		cmd.Stdout, cmd.Stderr = &out, &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
		cmd.WaitDelay = time.Second // a child of it holding the output does not hold us
		err = u.cfg.Children.RunChild(cmd)
		// A child forked elsewhere in the daemon while the binary was
		// being written may still hold it open for writing (Go issue
		// 22315): the exec is then refused with ETXTBSY until that child
		// has executed its own program.
		if !errors.Is(err, syscall.ETXTBSY) || attempt == textBusyRetries {
			break
		}
		time.Sleep(textBusyPause)
	}
	text := strings.TrimSpace(out.String())
	switch {
	case ctx.Err() != nil && errors.Is(ctx.Err(), context.DeadlineExceeded):
		return "", fmt.Errorf("%w: no answer to --version within %s", ErrNoVersion, u.cfg.VersionTimeout)
	case err != nil:
		return "", fmt.Errorf("%w: --version: %v (output %q)", ErrNoVersion, err, text)
	}
	fields := strings.Fields(text)
	if len(fields) < 2 || fields[0] != "sandbox-api" {
		return "", fmt.Errorf("%w: --version answered %q", ErrNoVersion, text)
	}
	if !handover.ReadsFormat(text, handover.FormatVersion) {
		return "", fmt.Errorf("%w: it does not say it reads hand-over state version %d (%q)", ErrIncompatible, handover.FormatVersion, text)
	}
	return fields[1], nil
}

// ETXTBSY retries: a fork and exec elsewhere take well under a second.
const (
	textBusyRetries = 5
	textBusyPause   = 100 * time.Millisecond
)

// boundedBuffer keeps the first maxVersionOutput bytes written to it and
// drops the rest, so a binary that prints without end costs nothing.
type boundedBuffer struct {
	bytes.Buffer
}

func (b *boundedBuffer) Write(p []byte) (int, error) {
	if room := maxVersionOutput - b.Len(); room > 0 {
		b.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
