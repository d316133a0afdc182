// Package diskspace keeps the gateway from filling the disk its store lives
// on.
//
// # The failure it prevents
//
// Badger writes its write-ahead log (the memtable's .mem file), its value
// log (.vlog) and every new table (.sst) through memory maps. Each of those
// files is created at its full size with ftruncate, which on ext4, xfs and
// tmpfs makes a sparse file: the size is promised, the blocks are not. The
// blocks are allocated later, when a write touches a page of the map. If
// the filesystem has no block left at that moment, the kernel cannot report
// ENOSPC to a store into memory; it sends SIGBUS, and the process dies with
// every in-flight request unanswered. Restarting on a still-full disk dies
// the same way, as soon as Badger opens a new log file and writes to it.
//
// An error is only possible before the write. So the gateway refuses new
// events while there is still room for everything Badger has already
// promised itself, plus a margin:
//
//	effective free = free bytes (statfs f_bavail)
//	               − what the store may still write without asking (Needed)
//
// Needed is the store's to compute (store.SpaceNeeded): the unwritten tails
// of the mapped WAL and value log, a flush of a full memtable, the next WAL
// and value log, and a margin for compaction. Ingest is refused while
// effective free is below storage.min_free_bytes (default: 256 MiB or 2% of
// the filesystem, whichever is smaller).
//
// # What stays up
//
// Only new events are refused (507 Insufficient Storage), and /readyz says
// 503 so a load balancer moves producers elsewhere. Reads, deliveries,
// their outcomes and webhook changes go on: they are small, and they write
// into the margin. When space comes back (the retention sweeper deletes old
// events, or an operator frees space), the next poll lifts the refusal.
//
// # How it is checked
//
// A Watcher polls statfs every second (Options.Interval) on its own
// goroutine. Admit, on the ingest path, reads the last poll's answer from
// an atomic and subtracts the bytes admitted since that poll, so a burst
// between two polls cannot run past the margin. It never makes a system
// call. Statfs, Needed and Interval are options, so tests drive every
// state without filling a disk.
package diskspace
