package main

import (
	"os"

	"golang.org/x/sys/unix"
)

// logOutput is where the log sink writes: its own close-on-exec copy of
// stderr. A write to descriptor 1 or 2 through os.Stderr that meets a
// reader gone away makes the Go runtime end the process with SIGPIPE,
// unless the signal is notified (survivePipeSignals); through a copy it is
// only an error the sink ignores. So the log lines of a first request can
// never kill the daemon, however soon its stderr's reader leaves, and
// SIGPIPE need not be registered before the first answer. Without a copy
// (no descriptor left), os.Stderr. Close-on-exec: neither the processes
// the daemon starts nor its next image (after an upgrade) get it.
func logOutput() *os.File {
	fd, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return os.Stderr
	}
	return os.NewFile(uintptr(fd), "/dev/stderr")
}
