// Package watch reports the changes under a path of the container's files,
// as a stream of events per watch. It knows nothing of HTTP, and takes from
// the file system only what its Files interface names: path resolution,
// the --user identity, the kernel folders to skip, and the registry of the
// daemon's own atomic writes, so that each of them shows as the one
// in-place write it stands for.
//
// The files, by job:
//
//   - service.go: the Service and its Files interface.
//   - watch.go: a watch's options, events and errors, and how it starts.
//   - hub_linux.go: the one inotify instance all watches share, and its
//     reader, which hands each event to the watches that asked for it.
//   - tree_linux.go: one watch of a folder, recursive or not: the folders
//     it holds, the events it reports, new folders scanned as they appear.
//   - file_linux.go: the watch of a single file, through its folder.
//   - atomic_linux.go: the daemon's atomic writes reported as in-place ones.
//   - queue.go: the bounded queues between the shared reader and a watch,
//     and between a watch and its reader, which drop rather than wait.
//
// inotify is used directly rather than through fsnotify, for what that
// library cannot give: the files a new folder already holds when its watch
// is added (mkdir -p, an unpacked archive) reported as CREATE; one kernel
// instance shared by every watch, where the kernel allows 128 per user; a
// bounded queue per watch, so one slow client costs bounded memory and
// delays no other watch; and exact masks, so that a subfolder's own events
// are not reported twice.
//
// Linux only, like the whole daemon.
package watch
