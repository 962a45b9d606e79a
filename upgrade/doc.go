// Package upgrade replaces the running daemon with another build of
// itself, in place and without losing anything a client or a process can
// observe: POST /upgrade and SIGUSR2 come here. It knows no transport: the
// server package maps its Request, Status and errors to the wire.
//
// An upgrade goes step by step (status.go): the binary is fetched from a
// release site or copied from a path into the upgrade folder, so that
// what is checked is what runs; it is checked (sha256, ELF header for this
// OS and architecture, an answer to --version that says it reads this
// daemon's hand-over state, handover.FormatVersion); then the switch. Any
// failure up to the exec leaves the daemon as it was, and the status says
// at which step and why.
//
// The switch is an exec of the new binary by the same process, so a
// daemon that is PID 1 stays PID 1 and the parent of every process it
// started. The front door pauses (connections wait in the listening
// socket's backlog), the services freeze (handover.Frozen) and the
// envelope goes to the new image in a memory file, with the listening
// socket, the log folder's lock and the services' descriptors kept open
// across the exec. The new image reads it (Inherit), resumes each service
// and only then serves (Commit); if it cannot, it executes the earlier
// binary, kept aside, with the same state (Rollback).
//
// Files, by job:
//   - upgrader.go: Config, the Upgrader (Start, Status, Close) and one
//     upgrade's steps; Part, Front and Daemon, what main wires.
//   - request.go: Request, and its check against the configuration
//     (release URLs, --user's limits).
//   - status.go: Status, State and Step, the contract's UpgradeStatus.
//   - errors.go: the named errors.
//   - defaults.go: the bounds' defaults.
//   - fetch.go: the download, or the copy of a binaryPath; staging.go:
//     the upgrade folder (the fetched binary, the copy of the running
//     one, their cleanup).
//   - trust_linux.go: under --user, a path only root could have written.
//   - verify.go: the ELF header; version.go: the answer to --version.
//   - switch_linux.go: the switch; exec_linux.go: the exec and the
//     descriptors kept across it; state.go: the envelope.
//   - inherit_linux.go: the new image's side: Inherit, Commit, Rollback.
package upgrade
