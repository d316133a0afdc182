package store

import (
	"context"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/dgraph-io/badger/v4"

	"github.com/eventgw/gateway/gateway/event"
)

// benchWriters is how many goroutines append at once: the 64 connections of
// the load test in BENCHMARKS.md.
const benchWriters = 64

// benchData is about 200 bytes of event data, the load tool's default.
var benchData = []byte(`{"worker":12,"n":123456,"sent_ns":1764320000000000000,"pad":"` + strings.Repeat("x", 136) + `"}`)

// benchParallel runs op from benchWriters goroutines (b.SetParallelism
// multiplies by GOMAXPROCS, so it is rounded up) and reports events/s.
func benchParallel(b *testing.B, eventsPerOp int, op func() error) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((benchWriters + procs - 1) / procs)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := op(); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.StopTimer()
	b.ReportMetric(float64(b.N*eventsPerOp)/b.Elapsed().Seconds(), "events/s")
}

func benchOpen(b *testing.B, sync bool) *Store {
	s, err := Open(Options{Path: b.TempDir(), Sync: sync, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

// BenchmarkStore_Append appends single events from 64 goroutines. The
// group-commit cases go through Store.Append; txn-per-append is what the
// store would cost without group commit: one synced Badger transaction per
// event, with the same keys and values.
func BenchmarkStore_Append(b *testing.B) {
	ctx := context.Background()
	for _, sync := range []bool{true, false} {
		name := "group-commit/sync"
		if !sync {
			name = "group-commit/nosync"
		}
		b.Run(name, func(b *testing.B) {
			s := benchOpen(b, sync)
			benchParallel(b, 1, func() error {
				_, err := s.Append(ctx, []Draft{{Type: "bench.event", Data: benchData}})
				return err
			})
		})
	}
	b.Run("txn-per-append/sync", func(b *testing.B) {
		// The store's own Badger tuning, without its committer.
		db, err := badger.Open(badgerOptions(Options{Path: b.TempDir(), Sync: true}).WithLogger(nil))
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = db.Close() })
		gen := event.NewIDGen(nil)
		benchParallel(b, 1, func() error {
			now := time.Now().UTC()
			seq := gen.NextAt(now)
			ev := event.Event{Seq: seq, ID: event.IDPrefix + seq.String(), Type: "bench.event", Time: now, Data: benchData}
			return db.Update(func(txn *badger.Txn) error {
				if err := txn.Set(key(prefixEvent, seq[:]), encodeEvent(&ev)); err != nil {
					return err
				}
				return txn.Set(typeKey(ev.Type, seq), nil)
			})
		})
	})
}

// BenchmarkStore_AppendBatch100 appends batches of 100 events from 64
// goroutines, synced, as POST /v1/events/batch does. One op is one batch;
// events/s counts events.
func BenchmarkStore_AppendBatch100(b *testing.B) { benchBatch(b, 100) }

// BenchmarkStore_AppendBatch1000 is BenchmarkStore_AppendBatch100 with the
// largest batch the API takes. 64 such batches are far more than Badger
// takes in one transaction, so it shows how groups are cut.
func BenchmarkStore_AppendBatch1000(b *testing.B) { benchBatch(b, 1000) }

func benchBatch(b *testing.B, n int) {
	ctx := context.Background()
	s := benchOpen(b, true)
	batch := make([]Draft, n)
	for i := range batch {
		batch[i] = Draft{Type: "bench.event", Data: benchData}
	}
	benchParallel(b, len(batch), func() error {
		res, err := s.Append(ctx, batch)
		if err == nil && len(res) != len(batch) {
			err = fmt.Errorf("appended %d of %d", len(res), len(batch))
		}
		return err
	})
}
