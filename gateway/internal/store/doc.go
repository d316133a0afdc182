// Package store keeps everything the gateway must not lose in Badger: events,
// idempotency keys, dispatch cursors, webhook registrations and the plugins
// uploaded through the API.
//
// # Key schema
//
// Every key starts with a one-byte table tag and a slash. Seqs are 16-byte
// ULIDs (event.Seq) written big-endian, so key order is commit order, which
// is also time order.
//
//	e/<seq>                 event record (codec.go)                     value: encoded event
//	i/<client id>           client-supplied event id -> seq            value: seq
//	t/<type>\x00<seq>       type index for GET /v1/events?type=         value: empty
//	k/<idempotency key>     idempotency window (Badger TTL)            value: seq ‖ request hash
//	                        keys: h:[<api key>\x00]<header>, b:[<api key>\x00]<header>#<i>,
//	                        id:<client id>, ce:<source>\x00<id> (httpapi/decode.go, idempotency.go)
//	c/<subscriber>          dispatch cursor of a durable subscriber    value: seq
//	w/<webhook id>          webhook registration                       value: JSON
//	d/<seq><webhook id>     delivery record (deliveries.go)            value: JSON
//	D/<webhook id>\x00<seq> per-webhook delivery index, event order    value: status
//	u/<webhook id>\x00<seq> unfinished deliveries                      value: 1 ‖ parked ‖ due (unix ns), or empty (older)
//	a/<seq><webhook id>\x00<n> attempt n of a delivery                  value: JSON
//	o/<seq>                 plugin pipeline outcome (outcomes.go)      value: JSON
//	p/<plugin>\x00<key>     plugin key-value entry (kv.go, Badger TTL) value: bytes
//	q/<plugin>              plugin key-value usage, for the quota      value: counter
//	P/<plugin>              API-uploaded plugin (plugins.go)           value: JSON settings, module sha256
//	B/<sha256>/<n>          chunk n (uint32) of such a module          value: up to 512 KiB of wasm
//	m/schema                key-schema version                         value: decimal
//	m/events                events ever committed (integrity.go)       value: uint64, big-endian
//
// Server-assigned ids are "evt_" + ULID of the seq, so they need no i/ entry:
// Get parses the seq straight out of the id.
//
// # Durability and group commit
//
// All event appends go through one committer goroutine (commit.go). It takes
// every request waiting in its queue, writes them in one Badger transaction
// and, with Options.Sync, one sync, and only then answers each request. An
// acknowledged append is therefore on disk, yet a thousand concurrent
// publishers cost one sync, not a thousand. Because one goroutine assigns
// seqs and commits in seq order, a reader that has seen seq S will never later
// find a committed event below S; the bus relies on this to read the log with
// a simple cursor.
//
// Badger runs without SyncWrites: a commit reaches Badger's WAL (and value
// log) in the page cache, and only the store decides what is synced before
// it is acknowledged. Its syncer (sync.go) fsyncs Badger's files itself,
// because badger.DB.Sync misses the files Badger has just moved on from. A
// crash of the process loses nothing (the page cache survives it); a power
// cut loses the unsynced writes since the last sync, and Badger replays each
// WAL up to its first torn entry. The table says which writes are synced
// (with Options.Sync; without it only the rows marked "always" are) and why
// the others may be lost.
//
//	write                           where                         synced  why
//	events (e/ i/ t/ k/, m/events)  Append, commit.go             yes     the 202 promises them: one sync per group commit,
//	                                                                      before any request of the group is answered
//	webhook registrations (w/)      MutateWebhook, webhooks.go    yes     the API answers with them; nothing re-derives one
//	                                                                      created through the API, and a lost delete or
//	                                                                      disable would send to an endpoint again
//	uploaded plugins (P/ B/)        SavePlugin, DeletePlugin      yes     the API answers with them; a lost upload would
//	                                                                      vanish at the next start, a lost delete come back
//	values moved by value log GC    CollectGarbage, retention.go  always  events acknowledged long ago: synced before Badger
//	                                                                      deletes the file they came from
//	integrity record                integrity.go                  always  its own file (temp file, fsync, rename, directory
//	                                                                      fsync); without Options.Sync the store is synced
//	                                                                      first, so it never counts what a power cut can take
//	restore                         Restore, backup.go            always  Badger's Close syncs everything before it returns
//	dispatch cursors (c/)           SetCursor, events.go          no      a lost cursor is behind: the events after it are
//	                                                                      fanned out again, and fan-out skips the deliveries
//	                                                                      that exist (at-least-once)
//	pipeline outcomes (o/)          SaveOutcomes, outcomes.go     no      written by fan-out, behind the cursor: a lost one
//	                                                                      is computed again on re-dispatch
//	deliveries, attempts            CreateDeliveries,             no      a lost delivery is created again by the re-run
//	(d/ D/ u/ a/)                   UpdateDeliveries                      fan-out; a lost success is sent again, a lost
//	                                                                      failure retried early (at-least-once)
//	plugin key-value (p/ q/)        PluginKV, kv.go               no      plugin state, like a cursor, may go back to a moment
//	                                                                      before the power cut; the plugin sees the events
//	                                                                      after it again
//	retention deletes               Sweep, retention.go           no      a deleted event may come back until the next sweep
//	schema version, counter         Open                          no      written again by the next Open
//	migration (m/)
//
// Reads are bounded by bytes as well as by count, because an event may be
// as large as server.max_body_bytes: ReadAfter stops at about 8 MiB, a
// Query with MaxBytes at that much, and iterators read ahead at most 16
// values.
//
// Values over 64 KiB (large events) live in Badger's value log, not in
// the LSM tree. Badger maps value log files into memory; on Linux a pager
// (pager_linux.go) advises the kernel to reclaim the pages of finished
// files every 250 ms, so that they do not count as the gateway's resident
// memory.
//
// # Damage and the integrity record
//
// Open refuses a directory it cannot trust, before Badger touches it
// (datadir.go, ErrDamaged): data files without a valid MANIFEST, a listed
// table missing or cut short, a block that does not decompress or match its
// checksum (tablecheck.go, in Open's goroutine, because Badger panics on it
// in its own). Tables the MANIFEST does not list, which Badger deletes, are
// linked into gateway-kept-tables/ first (unlisted.go). Badger verifies
// table checksums on open and value checksums on read. Beside Badger's
// files, gateway-integrity.json
// (integrity.go) records when the store was created and how many events
// were durably committed; Open refuses a store that recovered fewer
// (ErrDataLoss) unless Options.AcceptDataLoss. The committer keeps the
// count in the events' own transaction and only hands it to the recorder
// goroutine, which rewrites the file at most every integrityInterval.
// Backup, Restore and Check (backup.go) are the operator's tools; a backup
// ends with a trailer (backupend.go) so that Restore refuses one cut short.
//
// Store is safe for concurrent use.
package store
