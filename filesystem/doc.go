// Package filesystem reads, writes, uploads and searches the container's
// files for the daemon. It knows nothing of HTTP: paths are plain strings,
// relative ones taken from the configured working directory. Watches are
// the watch package's; it learns of this package's atomic writes through
// the methods in inflight.go.
//
// The files, by job:
//
//   - fs.go: the FS, its Config and path resolution.
//   - files.go, fileinfo.go, list_check.go: reads, listings, folders,
//     deletes, and how a file is described.
//   - atomic.go, tempname.go, inflight.go, journal.go: every write lands
//     by renaming a temporary file over its destination; the temporary
//     names, the registry of writes in flight the watches consult, and
//     the journal that lets the next start remove a crash's leftovers.
//     atomic_adopt.go lands a finished file of the daemon's that way;
//     writeback_linux.go and copy_range_linux.go: writeback started while
//     a write streams, and kernel copies between offsets.
//   - special_files.go, unsized_read.go, access_linux.go: FIFOs, devices,
//     kernel files whose size is unknown, and what the --user may write.
//   - multipart*.go: multipart uploads (the store, the parts, the
//     assembly, the sweep of abandoned ones); multipart_inplace*.go: parts
//     written in place in one file that complete lands as it is.
//   - walk.go, tree.go, find.go, fuzzy.go, grep*.go: the tree walker and
//     the tree, find, fuzzy and content searches built on it.
//   - heavy_reads.go: the queue of reads that build their answer in memory.
//
// Linux only, like the whole daemon: file operations act as the --user
// through per-thread identities (runas), and what the kernel's pseudo file
// systems hold is told by their magic numbers.
package filesystem
