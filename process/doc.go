// Package process runs the sandbox's commands and keeps their records and
// output. It is the domain both front doors call, the HTTP API (server)
// and the MCP tools (mcp): a flow they both need is written once, here,
// and neither knows the other. It imports no transport; its errors are
// named (errors.go) for each door to word its own way.
//
// It is Linux-only, as the daemon is: process groups, a child subreaper,
// pipe sizes and the listening-socket table are Linux's.
//
// The request and the one execute flow:
//   - spec.go: Spec, what a request may ask of the process; its checks
//     (validate) and the OS command it becomes. A new request field goes
//     here (or in ExecuteRequest when it is about waiting), and then only
//     in each door's wire mapping: server/process_execute.go and
//     mcp/process_execute.go.
//   - execute.go: Manager.Execute, start then wait for ports and for the
//     end as asked, bounded by the request's timeout or the door's Waits.
//   - errors.go: the named errors and SpecError.
//   - info.go: Status and Info, the snapshot of a record the doors answer.
//
// The manager and the lifecycle of one process, an operation per file:
//   - manager.go: Config and its defaults, Manager (the list of records,
//     name reservations, the disk budget of all logs, Shutdown).
//   - process.go: Process, the record, and its small accessors.
//   - start.go: Manager.Start, checks and the working directory.
//   - spawn.go: one attempt: pipes, fork through the reaper.
//   - fork_linux.go: the fork itself (syscall.ForkExec, not os/exec).
//   - environ.go: the environment of a start, without duplicates.
//   - quickwatch_linux.go: the first 50 ms of an attempt, read and waited
//     for on its supervisor's thread (or its exec's), then handed to the
//     pumps.
//   - pipes_ahead.go: the output pipes of the next start, made while the
//     child of the one before runs.
//   - pump.go: a pipe copied into the log.
//   - supervise.go: waits for each attempt, decides on a restart, records
//     the end (finish).
//   - supervise_here.go: the start of that, on the goroutine of an exec
//     that waits for the end, which a quick command ends there.
//   - end_tidy.go: what an end leaves to do (closes, pruned records),
//     done a moment after its answer.
//   - restart.go: the next attempt after a failure.
//   - keepalive.go: the lifetime of a keepAlive process.
//   - stop.go: Stop, Kill and the signalling of the process group.
//   - wait.go: Wait, and TimeoutError, the one wording of a wait given up.
//   - stdin.go: writes to a process's stdin and its closing.
//   - ports_linux.go: WaitForPorts, ValidatePorts and ListeningPorts.
//   - signals_linux.go: ParseSignal and SignalName (golang.org/x/sys/unix).
//   - name.go: what a process name may be.
//   - logdir_lock_linux.go: LockLogDir and AdoptLogDirLock, one daemon per
//     log folder.
//   - reaper_linux.go: reaping orphans without racing os/exec.
//   - pipe_linux.go: larger pipes for fast writers.
//
// Output, kept on disk so that no reader slows a process down:
//   - log.go: Log, the segmented, capped file of one process's output.
//   - log_recent.go: the last writes kept in memory, which a reader that
//     keeps up parses in place instead of reading the file back.
//   - log_prealloc_linux.go: file blocks reserved ahead of a fast writer.
//   - log_reader.go: Reader, each client's own position in a log.
//   - log_tail.go: the last bytes of a log, read backwards.
//   - log_tail_index.go: where each stream's last output lies, so that the
//     tail of one stream reads its own records only.
//   - chunks.go: ChunkReader, output byte for byte (streamed exec).
//   - lines.go: LineReader, output line by line (log streams), framed
//     straight into the stream's buffer (NextFramed).
//   - log_segment_start.go: the record each segment begins with, saying
//     where it starts.
//
// A restart after a crash, from what the log folder already holds:
//   - records_journal.go: the records journal, one line per process started
//     or forgotten; written whole at a clean shutdown.
//   - recover.go: Manager.RecoverEarlierRun, the earlier run's records and
//     output listed again, ended.
//   - log_reopen.go: a log rebuilt from its segment files.
//   - still_runs_linux.go: whether an earlier run's process still runs.
package process
