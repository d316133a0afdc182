package store

import (
	"context"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestOpen_schemaVersion(t *testing.T) {
	s, dir := openTemp(t, Options{})
	appendOK(t, s, draft("a", `1`))
	requireNoError(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte("2")) }))
	requireNoError(t, s.Close())

	_, err := Open(Options{Path: dir, Logger: quietLogger})
	requireTrue(t, err != nil, "opening data of another schema version must fail")
	for _, want := range []string{dir, "schema version 2", "understands version 1"} {
		requireTrue(t, strings.Contains(err.Error(), want), "error %q does not mention %q", err, want)
	}

	// The refused open released the directory: fixing the version lets it
	// open again, with the data intact.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	requireNoError(t, err)
	requireNoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte("1")) }))
	requireNoError(t, db.Close())
	s = openAt(t, dir, Options{})
	requireEqual(t, 1, len(readAll(t, s, 10)))
}

func TestOpen_newDirWritesSchema(t *testing.T) {
	s, _ := openTemp(t, Options{})
	requireNoError(t, s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchema)
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		requireEqual(t, "1", string(v))
		return err
	}))
}

func TestStore_Cursor(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t, Options{})
	seq, err := s.Cursor(ctx, "sub")
	requireNoError(t, err)
	requireTrue(t, seq.IsZero(), "an unknown cursor is zero")

	evs := appendOK(t, s, draft("a", `1`), draft("a", `2`))
	requireNoError(t, s.SetCursor(ctx, "sub", evs[0].Event.Seq))
	requireNoError(t, s.SetCursor(ctx, "other", evs[1].Event.Seq))
	requireNoError(t, s.Close())

	s = openAt(t, dir, Options{})
	for name, want := range map[string]int{"sub": 0, "other": 1} {
		seq, err := s.Cursor(ctx, name)
		requireNoError(t, err)
		requireEqual(t, evs[want].Event.Seq, seq)
	}
}

func TestStore_memory(t *testing.T) {
	s, err := Open(Options{Memory: true, Logger: quietLogger})
	requireNoError(t, err)
	defer s.Close()
	res := appendOK(t, s, draft("a", `1`))
	got, err := s.Event(context.Background(), res[0].Event.ID)
	requireNoError(t, err)
	requireSameEvent(t, res[0].Event, got)
}
