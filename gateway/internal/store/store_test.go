package store

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestOpen_schemaVersion(t *testing.T) {
	s, dir := openTemp(t, Options{})
	appendOK(t, s, draft("a", `1`))
	require.NoError(t, s.db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte("2")) }))
	require.NoError(t, s.Close())

	_, err := Open(Options{Path: dir, Logger: slog.New(slog.DiscardHandler)})
	require.True(t, err != nil, "opening data of another schema version must fail")
	for _, want := range []string{dir, "schema version 2", "understands version 1"} {
		require.True(t, strings.Contains(err.Error(), want), "error %q does not mention %q", err, want)
	}

	// The refused open released the directory: fixing the version lets it
	// open again, with the data intact.
	db, err := badger.Open(badger.DefaultOptions(dir).WithLogger(nil))
	require.NoError(t, err)
	require.NoError(t, db.Update(func(txn *badger.Txn) error { return txn.Set(keySchema, []byte("1")) }))
	require.NoError(t, db.Close())
	s = openAt(t, dir, Options{})
	require.Equal(t, 1, len(readAll(t, s, 10)))
}

func TestOpen_newDirWritesSchema(t *testing.T) {
	s, _ := openTemp(t, Options{})
	require.NoError(t, s.db.View(func(txn *badger.Txn) error {
		item, err := txn.Get(keySchema)
		if err != nil {
			return err
		}
		v, err := item.ValueCopy(nil)
		require.Equal(t, "1", string(v))
		return err
	}))
}

func TestStore_Cursor(t *testing.T) {
	ctx := context.Background()
	s, dir := openTemp(t, Options{})
	seq, err := s.Cursor(ctx, "sub")
	require.NoError(t, err)
	require.True(t, seq.IsZero(), "an unknown cursor is zero")

	evs := appendOK(t, s, draft("a", `1`), draft("a", `2`))
	require.NoError(t, s.SetCursor(ctx, "sub", evs[0].Event.Seq))
	require.NoError(t, s.SetCursor(ctx, "other", evs[1].Event.Seq))
	require.NoError(t, s.Close())

	s = openAt(t, dir, Options{})
	for name, want := range map[string]int{"sub": 0, "other": 1} {
		seq, err := s.Cursor(ctx, name)
		require.NoError(t, err)
		require.Equal(t, evs[want].Event.Seq, seq)
	}
}

func TestStore_memory(t *testing.T) {
	s, err := Open(Options{Memory: true, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer s.Close()
	res := appendOK(t, s, draft("a", `1`))
	got, err := s.Event(context.Background(), res[0].Event.ID)
	require.NoError(t, err)
	requireSameEvent(t, res[0].Event, got)
}
