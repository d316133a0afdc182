package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/dgraph-io/badger/v4"
	"github.com/dgraph-io/badger/v4/options"

	"github.com/eventgw/gateway/gateway/event"
)

// schemaVersion is bumped whenever the key schema changes incompatibly.
const schemaVersion = 1

// Table tags; see the key schema in doc.go.
var (
	prefixEvent   = []byte("e/")
	prefixID      = []byte("i/")
	prefixType    = []byte("t/")
	prefixIdem    = []byte("k/")
	prefixCursor  = []byte("c/")
	prefixWebhook = []byte("w/")
	keySchema     = []byte("m/schema")
)

// Sentinel errors callers act on.
var (
	// ErrNotFound means the requested record does not exist.
	ErrNotFound = errors.New("store: not found")
	// ErrClosed is returned by operations on a closed store.
	ErrClosed = errors.New("store: closed")
	// ErrIdempotencyConflict means an idempotency key was reused with a
	// different request body.
	ErrIdempotencyConflict = errors.New("store: idempotency key reused with a different request")
	// ErrIDTaken means a client-supplied event id is already used by an
	// event whose idempotency window has passed.
	ErrIDTaken = errors.New("store: event id already exists")
	// ErrTooLarge means one request does not fit into a single transaction.
	ErrTooLarge = errors.New("store: request too large for one transaction")
	// ErrNotSynced means a write was committed but could not be synced to
	// disk, so it is not acknowledged: it may or may not survive a power
	// cut. A retry is safe where the write is idempotent (an append with an
	// idempotency key, a webhook or plugin saved again).
	ErrNotSynced = errors.New("store: the write could not be synced to disk")
)

// Options configure Open.
type Options struct {
	// Path is the Badger directory; ignored when Memory is true.
	Path string
	// Memory keeps all data in RAM.
	Memory bool
	// Sync makes every acknowledged write durable: an append is synced
	// before Append returns, and so are the other writes an operator is
	// told are done (webhooks, uploaded plugins). What is re-derivable
	// after a crash is never synced on its own; see "Durability" in doc.go.
	Sync bool
	// IdempotencyWindow is the lifetime of idempotency keys (default 24h).
	IdempotencyWindow time.Duration
	// Logger receives Badger's warnings and errors (default slog.Default()).
	Logger *slog.Logger
	// Now is the clock (default time.Now); tests pin it.
	Now func() time.Time
	// Space, when set, is asked before each Append is queued; a refusal
	// fails the Append with ErrNoSpace and writes nothing. Other writes
	// (deliveries, webhooks, cursors) are not asked: they are small and
	// use the margin that ingest leaves (see package diskspace).
	Space SpaceGuard
	// OnCommit is called, outside any lock, after each group commit that
	// stored at least one new event. It must not block; the bus uses it to
	// wake dispatchers.
	OnCommit func()
	// AcceptDataLoss opens a store that recovered fewer events than its
	// integrity record says were committed (ErrDataLoss), logging the gap
	// as an error and writing a new record. It does not open a damaged
	// directory (ErrDamaged): Badger would overwrite what is left.
	AcceptDataLoss bool
}

// Store is the Badger-backed store.
type Store struct {
	db    *badger.DB
	opts  Options
	gen   *event.IDGen
	queue chan *appendReq
	// groupBytes and groupEntries bound one group commit: half of what
	// Badger takes in one transaction (see commitLoop).
	groupBytes   int
	groupEntries int
	stop         chan struct{}
	done         chan struct{}
	closed       sync.Once
	// syncWrites is syncer.sync (a no-op in memory): it makes every write
	// Badger has taken so far to a WAL durable, and with values every
	// write to the value log too. Tests replace it to count syncs or make
	// them fail.
	syncWrites func(values bool) error
	// closeSyncer closes the descriptors the syncer keeps open.
	closeSyncer func()
	// pagerDone is closed when the value log pager (pager_linux.go) has
	// stopped; it stops with stop.
	pagerDone chan struct{}

	// rec keeps the integrity record (nil in memory). events and staged
	// belong to the committer goroutine: the events committed so far, and
	// the last seq staged in the open transaction.
	rec    *recorder
	events uint64
	last   event.Seq
	staged event.Seq
	// synced is the newest seq a sync covers (with Options.Sync off, the
	// newest committed): the committer writes it, and Replays reads it so
	// that it never answers for an event before the event is on disk.
	// unacked counts the committed events whose sync failed; the
	// integrity record never counts them. unsyncedValues says whether
	// the failed sync was to cover values. All three belong to the
	// committer.
	synced         atomic.Pointer[event.Seq]
	unacked        uint64
	unsyncedValues bool
}

// valueThreshold is the size above which Badger keeps a value in the value
// log rather than in the LSM tree.
const valueThreshold = 64 << 10

// badgerOptions is how the store tunes Badger for opts.
func badgerOptions(opts Options) badger.Options {
	bo := badger.DefaultOptions(opts.Path).
		WithInMemory(opts.Memory).
		// Badger would sync every commit: delivery records, attempts,
		// outcomes and cursors too, each a sync of its own. The store syncs
		// where a write is acknowledged (Store.sync, sync.go), and ingest
		// once per group commit; see "Durability" in doc.go.
		WithSyncWrites(false).
		WithLogger(badgerLogger{opts.Logger}).
		WithNumVersionsToKeep(1).
		// Smaller than Badger's defaults (64 MiB x 5 memtables, 256 MiB block
		// cache): a gateway's working set is the recent tail of the log.
		WithMemTableSize(16 << 20).
		WithNumMemtables(2).
		WithNumCompactors(2).
		WithBlockCacheSize(8 << 20).
		// Values above 64 KiB (large events) go to the value log, not into
		// the memtables and the LSM tree: Badger's default threshold is
		// 1 MiB, so events just under server.max_body_bytes filled the
		// memtables (and every compaction) with payload.
		WithValueThreshold(valueThreshold).
		// 64 MiB value log files, not 256: each is mapped, and collected,
		// in smaller pieces, and a new one is free space the store must
		// keep in reserve (SpaceNeeded), twice: the one being filled and
		// the next.
		WithValueLogFileSize(64 << 20).
		// A damaged table is refused when Badger opens it, and a damaged
		// value when it is read, instead of being served or skipped.
		WithChecksumVerificationMode(options.OnTableRead).
		WithVerifyValueChecksum(true)
	// Every level's tables are BaseTableSize (2 MiB). Badger's default
	// doubles them at each level below the base, so with a million
	// deliveries the deepest level's tables were 64 MiB, and each of a
	// compaction's table builders held one whole table twice (uncompressed
	// and compressed): 400 MiB of heap in compactions. (No With method.)
	bo.TableSizeMultiplier = 1
	bo.BaseTableSize = 1 << 20
	if opts.Memory {
		bo = bo.WithDir("").WithValueDir("")
	}
	return bo
}

// Open opens (or creates) the store and starts its committer.
//
// On disk, it first checks the directory (checkDataDir) and the integrity
// record, and refuses a damaged directory with ErrDamaged and one that lost
// acknowledged events with ErrDataLoss; both errors name the directory and
// what is missing.
func Open(opts Options) (*Store, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.IdempotencyWindow <= 0 {
		opts.IdempotencyWindow = 24 * time.Hour
	}
	var rec *integrityRecord
	var kept string
	var unlisted []string
	if !opts.Memory {
		var err error
		if rec, kept, unlisted, err = prepareDir(&opts); err != nil {
			return nil, err
		}
	}
	db, err := openBadger(badgerOptions(opts))
	if err != nil {
		return nil, err
	}
	s := &Store{
		db:           db,
		opts:         opts,
		gen:          event.NewIDGen(opts.Now),
		queue:        make(chan *appendReq, 4096),
		groupBytes:   int(db.MaxBatchSize() / 2),
		groupEntries: int(db.MaxBatchCount() / 2),
		stop:         make(chan struct{}),
		done:         make(chan struct{}),
		syncWrites:   func(bool) error { return nil },
		closeSyncer:  func() {},
	}
	if !opts.Memory {
		y, err := newSyncer(opts.Path)
		if err != nil {
			_ = db.Close()
			return nil, err
		}
		s.syncWrites = y.sync
		s.closeSyncer = y.close
	}
	if err := s.checkSchema(); err != nil {
		_ = db.Close()
		return nil, err
	}
	if err := s.restoreIDGen(); err != nil {
		_ = db.Close()
		return nil, err
	}
	last := s.last
	s.synced.Store(&last)
	if err := s.checkIntegrity(rec); err != nil {
		_ = db.Close()
		if errors.Is(err, ErrDataLoss) {
			err = fmt.Errorf("%w%s", err, keptNote(opts.Path))
		}
		return nil, err
	}
	s.dropKept(kept, unlisted, rec)
	go s.commitLoop()
	s.pagerDone = make(chan struct{})
	if opts.Memory {
		close(s.pagerDone)
	} else {
		go runPager(opts.Path, s.stop, s.pagerDone)
	}
	return s, nil
}

// prepareDir runs the checks of a data directory before Badger opens it:
// the integrity record, checkDataDir, and keepUnlisted. It holds the
// directory's lock (shared, as Badger's readers do) meanwhile, so that a
// running gateway's directory is ErrInUse before any file of it is read,
// half-written, or linked aside. The lock is released before Badger takes
// its own; a gateway starting in between is caught by Badger's.
func prepareDir(opts *Options) (rec *integrityRecord, kept string, unlisted []string, err error) {
	if _, err := os.Stat(opts.Path); err == nil {
		unlock, err := lockShared(opts.Path)
		if err != nil {
			return nil, "", nil, err
		}
		defer unlock()
	}
	if rec, err = readIntegrity(opts.Path); err != nil && !opts.AcceptDataLoss {
		return nil, "", nil, err
	}
	d, err := checkDataDir(opts.Path, rec)
	if err != nil {
		if !opts.AcceptDataLoss || !errors.Is(err, ErrDataLoss) {
			return nil, "", nil, err
		}
		opts.Logger.Error("store: starting without the data the integrity record promises (--accept-data-loss)", "err", err)
		rec = nil
	}
	unlisted = d.unlisted()
	if kept, err = keepUnlisted(opts.Path, unlisted); err != nil {
		return nil, "", nil, err
	}
	return rec, kept, unlisted, nil
}

// openBadger is badger.Open with a panic turned into an error. Badger
// panics on some damaged files; checkDataDir refuses the ones known to
// panic in Badger's own goroutines, where this recover cannot reach.
func openBadger(bo badger.Options) (db *badger.DB, err error) {
	defer func() {
		if r := recover(); r != nil {
			db, err = nil, fmt.Errorf("%w: %q: Badger failed while opening it (%v): %s", ErrDamaged, bo.Dir, r, damageHint)
		}
	}()
	db, err = badger.Open(bo)
	if err != nil && strings.Contains(err.Error(), "directory lock") {
		return nil, fmt.Errorf("%w: %q is locked by another process, most likely a running gateway", ErrInUse, bo.Dir)
	}
	if err != nil && strings.Contains(err.Error(), "checksum") {
		return nil, fmt.Errorf("%w: %q: %v: %s", ErrDamaged, bo.Dir, err, damageHint)
	}
	if err != nil {
		return nil, fmt.Errorf("store: open %q: %w", bo.Dir, err)
	}
	return db, nil
}

// checkIntegrity compares what Badger recovered with the integrity record
// and starts the recorder that keeps the record up to date. With no record
// (a new directory, or one from before records existed), it writes one.
func (s *Store) checkIntegrity(rec *integrityRecord) error {
	n, err := eventCount(s.db, false)
	if err != nil {
		return fmt.Errorf("store: read the event counter: %w", err)
	}
	s.events = n
	last := s.last // restoreIDGen read it
	if s.opts.Memory {
		return nil
	}
	created := s.opts.Now().UTC()
	if rec != nil {
		created = rec.Created
		if n < rec.Events {
			gap := gapError(s.opts.Path, rec, n, last)
			if !s.opts.AcceptDataLoss {
				return gap
			}
			s.opts.Logger.Error("store: starting with acknowledged events missing (--accept-data-loss); the integrity record is rewritten",
				"missing", rec.Events-n, "err", gap)
		}
	}
	s.rec = &recorder{
		dir: s.opts.Path, created: created, logger: s.opts.Logger, write: writeIntegrity,
		state:   committed{events: n, lastSeq: last},
		written: ^uint64(0), // write now, even when n is what the file says
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
		done:    make(chan struct{}),
	}
	if !s.opts.Sync {
		// The committer does not sync; the recorder must, before it counts.
		syncWrites := s.syncWrites
		s.rec.syncAll = func() error { return syncWrites(true) }
	}
	if err := s.rec.flush(true); err != nil {
		return err
	}
	go s.rec.loop()
	return nil
}

// Close stops the committer after it has answered every queued request and
// closes Badger, then writes the final integrity record. It is safe to call
// more than once.
func (s *Store) Close() error {
	var err error
	s.closed.Do(func() {
		close(s.stop)
		<-s.done
		<-s.pagerDone
		if s.rec != nil {
			s.rec.stopLoop()
		}
		err = s.db.Close()
		s.closeSyncer()
		if s.rec != nil && err == nil {
			// Badger's Close synced everything.
			err = s.rec.flush(false)
		}
	})
	return err
}

// sync makes every write Badger has taken so far durable, if Options.Sync
// asks for it: the WAL, and with values (the writes to cover hold values
// over valueThreshold) the value log too. Callers wrap its error with
// ErrNotSynced.
func (s *Store) sync(values bool) error {
	if !s.opts.Sync {
		return nil
	}
	return s.syncWrites(values)
}

func (s *Store) checkSchema() error {
	return s.db.Update(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchema)
		if errors.Is(err, badger.ErrKeyNotFound) {
			return txn.Set(keySchema, []byte(strconv.Itoa(schemaVersion)))
		}
		if err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
		v, err := item.ValueCopy(nil)
		if err != nil {
			return fmt.Errorf("store: read schema version: %w", err)
		}
		if string(v) != strconv.Itoa(schemaVersion) {
			return fmt.Errorf("store: data in %q has schema version %s; this gateway understands version %d", s.opts.Path, v, schemaVersion)
		}
		return nil
	})
}

// restoreIDGen makes sure new seqs sort after every stored one, even if the
// wall clock went back while the gateway was down. It sets s.last, the
// newest stored seq.
func (s *Store) restoreIDGen() error {
	last, err := s.lastSeq()
	if err != nil {
		return fmt.Errorf("store: read the last seq: %w", err)
	}
	s.last = last
	if !last.IsZero() {
		s.gen = event.NewIDGenAfter(last, s.opts.Now)
	}
	return nil
}

func (s *Store) lastSeq() (event.Seq, error) {
	var last event.Seq
	err := s.db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{Reverse: true, Prefix: prefixEvent})
		defer it.Close()
		it.Seek(append(append([]byte(nil), prefixEvent...), 0xff))
		if it.Valid() {
			copy(last[:], it.Item().Key()[len(prefixEvent):])
		}
		return nil
	})
	return last, err
}

func key(prefix []byte, parts ...[]byte) []byte {
	n := len(prefix)
	for _, p := range parts {
		n += len(p)
	}
	k := make([]byte, 0, n)
	k = append(k, prefix...)
	for _, p := range parts {
		k = append(k, p...)
	}
	return k
}

func ctxErr(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("store: %w", err)
	}
	return nil
}

// badgerLogger sends Badger's own logging to slog, demoting its chatty info
// lines to debug.
type badgerLogger struct{ l *slog.Logger }

func (b badgerLogger) Errorf(f string, a ...any) {
	b.l.Error(trim(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Warningf(f string, a ...any) {
	b.l.Warn(trim(fmt.Sprintf(f, a...)), "component", "badger")
}
func (b badgerLogger) Infof(f string, a ...any)  { b.debug(f, a) }
func (b badgerLogger) Debugf(f string, a ...any) { b.debug(f, a) }

// debug formats only when debug logging is on: Badger logs every write
// request at debug level, and formatting them cost 5% of the gateway's CPU
// at 200 deliveries/s with the log at info.
func (b badgerLogger) debug(f string, a []any) {
	if !b.l.Enabled(context.Background(), slog.LevelDebug) {
		return
	}
	b.l.Debug(trim(fmt.Sprintf(f, a...)), "component", "badger")
}

func trim(s string) string {
	for len(s) > 0 && (s[len(s)-1] == '\n' || s[len(s)-1] == ' ') {
		s = s[:len(s)-1]
	}
	return s
}
