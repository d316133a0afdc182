package store

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

// ErrInUse means a data directory is locked by a running gateway.
var ErrInUse = errors.New("store: data directory is in use")

// Backup writes a full backup of the store to w, in Badger's stream backup
// format, while the store keeps serving. It reads one snapshot: every event
// acknowledged before Backup was called is in it, and nothing half-written
// is. Restore reads it back.
func (s *Store) Backup(ctx context.Context, w io.Writer) error {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	stream := s.db.NewStream()
	stream.LogPrefix = "store.Backup"
	tw := &trailerWriter{w: &ctxWriter{ctx: ctx, w: w}}
	if _, err := stream.Backup(tw, 0); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	if err := tw.finish(); err != nil {
		return fmt.Errorf("store: backup: %w", err)
	}
	return nil
}

// ctxWriter stops a backup when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c *ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// Restore loads a backup written by Backup into dir, which must be empty or
// not exist, and writes a fresh integrity record for it.
func Restore(dir string, r io.Reader, logger *slog.Logger) error {
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	existed := err == nil
	if len(entries) > 0 {
		return fmt.Errorf("store: restore into %q: the directory is not empty (%d entries); restore into an empty or new directory, then point storage.path at it", dir, len(entries))
	}
	if logger == nil {
		logger = slog.Default()
	}
	err = restore(dir, r, logger)
	if err != nil {
		// Leave the directory as it was found: missing, or empty.
		if !existed {
			_ = os.RemoveAll(dir)
		} else {
			ents, _ := os.ReadDir(dir)
			for _, e := range ents {
				_ = os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
	return err
}

func restore(dir string, r io.Reader, logger *slog.Logger) error {
	db, err := openBadger(badgerOptions(Options{Path: dir, Logger: logger}))
	if err != nil {
		return err
	}
	if err := db.Load(&trailerReader{r: bufio.NewReaderSize(r, 1<<20)}, 256); err != nil {
		_ = db.Close()
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	if err := db.Close(); err != nil {
		return fmt.Errorf("store: restore into %q: %w", dir, err)
	}
	// Open finds no integrity record, takes the event counter the backup
	// carried and writes a record for it.
	s, err := Open(Options{Path: dir, Sync: true, Logger: logger})
	if err != nil {
		return fmt.Errorf("store: restore into %q: reopen: %w", dir, err)
	}
	return s.Close()
}

// CheckReport is what Check found in a healthy directory.
type CheckReport struct {
	// Events is the number of events read and decoded.
	Events uint64
	// Committed is Badger's counter of events ever committed; retention
	// makes it larger than Events.
	Committed uint64
	// Recorded is what the integrity record says was committed, and
	// HasRecord whether there is a record.
	Recorded  uint64
	HasRecord bool
	// LastSeq is the seq of the newest event.
	LastSeq event.Seq
	// Keys is the number of keys read, of every table.
	Keys uint64
	// Scratch is true when the gateway had not stopped cleanly, or tables
	// were not listed, so the check ran on a scratch copy where Badger could
	// replay the WAL.
	Scratch bool
	// Unlisted are the tables the MANIFEST does not list: a crash's
	// leftovers, or the tables of a MANIFEST cut short (then the events in
	// them are missing, and Check fails on the integrity record).
	Unlisted []string
}

// scratchCopy makes a copy of dir's Badger files beside dir for Badger to
// recover in: tables are linked (Badger never changes one), the rest is
// copied. It returns the copy's path.
func scratchCopy(dir string) (string, error) {
	scratch, err := os.MkdirTemp(filepath.Dir(filepath.Clean(dir)), ".gateway-check-*")
	if err != nil {
		return "", err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	for _, e := range entries {
		if !e.Type().IsRegular() || e.Name() == "LOCK" || e.Name() == integrityFile {
			continue
		}
		from, to := filepath.Join(dir, e.Name()), filepath.Join(scratch, e.Name())
		if filepath.Ext(e.Name()) == ".sst" && os.Link(from, to) == nil {
			continue
		}
		if err := copyFile(from, to); err != nil {
			_ = os.RemoveAll(scratch)
			return "", err
		}
	}
	return scratch, nil
}

func copyFile(from, to string) error {
	src, err := os.Open(from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	_, err = io.Copy(dst, src)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return err
}

// Check verifies the data directory dir offline: the checks of Open
// (checkDataDir, which verifies every block of every listed table, and the
// integrity record), then every key and value, decoding each event. It
// opens Badger read-only and fails with ErrInUse while a gateway runs on
// dir.
func Check(dir string, logger *slog.Logger) (CheckReport, error) {
	var rep CheckReport
	if logger == nil {
		logger = slog.Default()
	}
	rec, err := readIntegrity(dir)
	if err != nil {
		return rep, err
	}
	if _, err := os.Stat(dir); err != nil {
		return rep, fmt.Errorf("store: check %q: %w", dir, err)
	}
	// Under dir's lock (Badger's, shared): a running gateway is ErrInUse
	// before its files are read while it changes them, and none starts
	// while Check reads them or works on a scratch copy of them.
	unlock, err := lockShared(dir)
	if err != nil {
		return rep, fmt.Errorf("%w; check it when the gateway is stopped, or take an online backup (POST /v1/admin/backup) and check a restore of it", err)
	}
	defer unlock()
	d, err := checkDataDir(dir, rec)
	if err != nil {
		return rep, err
	}
	// Not OnTableAndBlockRead: Badger v4.9 dereferences a nil block when a
	// table's block fails its checksum in that mode, and panics in one of
	// its own goroutines. OnTableRead verifies every block at open.
	bo := badgerOptions(Options{Path: dir, Logger: logger}).WithReadOnly(true)
	// Badger deletes the tables a MANIFEST does not list, even read-only;
	// then Check, too, works on a scratch copy.
	var db *badger.DB
	if rep.Unlisted = d.unlisted(); len(rep.Unlisted) == 0 {
		db, err = openBadger(bo)
	}
	if len(rep.Unlisted) > 0 || err != nil && strings.Contains(err.Error(), "truncate required") {
		// The gateway did not stop cleanly, and Badger can only replay the
		// WAL read-write, or would delete tables. Check a scratch copy
		// instead of changing dir.
		scratch, cerr := scratchCopy(dir)
		if cerr != nil {
			return rep, fmt.Errorf("store: check %q: a scratch copy to recover the WAL in failed: %w", dir, cerr)
		}
		defer os.RemoveAll(scratch)
		rep.Scratch = true
		db, err = openBadger(bo.WithReadOnly(false).WithDir(scratch).WithValueDir(scratch))
		if err != nil {
			// Name the files in dir, not in the scratch copy.
			return rep, fmt.Errorf("%w: %s", ErrDamaged, strings.TrimPrefix(strings.ReplaceAll(err.Error(), scratch, dir), ErrDamaged.Error()+": "))
		}
	}
	if err != nil {
		if errors.Is(err, ErrInUse) {
			return rep, fmt.Errorf("%w; check it when the gateway is stopped, or take an online backup (POST /v1/admin/backup) and check a restore of it", err)
		}
		return rep, err
	}
	defer db.Close()
	err = db.View(func(txn *badger.Txn) error {
		it := txn.NewIterator(badger.IteratorOptions{PrefetchValues: false})
		defer it.Close()
		for it.Rewind(); it.Valid(); it.Next() {
			item := it.Item()
			rep.Keys++
			err := item.Value(func(v []byte) error {
				k := item.Key()
				if !strings.HasPrefix(string(k), string(prefixEvent)) {
					return nil
				}
				var seq event.Seq
				if len(k) != len(prefixEvent)+len(seq) {
					return fmt.Errorf("event key %x has the wrong length", k)
				}
				copy(seq[:], k[len(prefixEvent):])
				if _, err := decodeEvent(seq, v); err != nil {
					return fmt.Errorf("event %s: %w", seq, err)
				}
				rep.Events++
				rep.LastSeq = seq
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("%w: %q: %v: %s", ErrDamaged, dir, err, damageHint)
	}
	if rep.Committed, err = eventCount(db, true); err != nil {
		return rep, fmt.Errorf("%w: %q: read the event counter: %v", ErrDamaged, dir, err)
	}
	if rec != nil {
		rep.HasRecord, rep.Recorded = true, rec.Events
		if rep.Committed < rec.Events {
			err := gapError(dir, rec, rep.Committed, rep.LastSeq)
			if len(rep.Unlisted) > 0 {
				err = fmt.Errorf("%w; the MANIFEST does not list %s, which may hold them (it may have been cut short)", err, strings.Join(rep.Unlisted, ", "))
			}
			return rep, err
		}
	}
	return rep, nil
}
