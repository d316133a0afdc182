package schedule

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// BenchmarkScheduler_Next measures one delivery's way through the
// scheduler: Next, Done and a Push that queues it again, so that the work
// never runs out. The cost must not grow with webhooks that have nothing
// to send, nor with those that wait.
func BenchmarkScheduler_Next(b *testing.B) {
	cases := []struct {
		name string
		// idle webhooks have nothing queued; waiting ones have a retry an
		// hour away. backlog is the busy webhook's queue.
		idle, waiting, backlog int
	}{
		{"webhooks=1", 0, 0, 100},
		{"webhooks=10000,busy=1", 9_999, 0, 100},
		{"webhooks=10001,waiting=10000,busy=1", 0, 10_000, 100},
		{"webhooks=1,backlog=1000000", 0, 0, 1_000_000},
	}
	for _, tc := range cases {
		b.Run(tc.name, func(b *testing.B) {
			s := New()
			l := Limits{MaxInFlight: 10, BreakerFailures: 5}
			for i := range tc.idle {
				s.Set(fmt.Sprint("idle", i), l, true, t0)
			}
			for i := range tc.waiting {
				id := fmt.Sprint("waiting", i)
				s.Set(id, l, true, t0)
				s.Push(id, seq(i), t0.Add(time.Hour), t0)
			}
			s.Set("busy", l, true, t0)
			for n := range tc.backlog {
				s.Push("busy", seq(n), t0, t0)
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				id, sq, ok := s.Next(t0)
				if !ok {
					b.Fatal("nothing to send")
				}
				s.Done(id, sq, Success, t0)
				s.Push(id, sq, t0, t0)
			}
		})
	}
}

// queueMemory queues n deliveries over webhooks webhooks and returns the
// heap bytes they take, per delivery.
func queueMemory(n, webhooks int) float64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	s := New()
	for w := range webhooks {
		id := fmt.Sprint("webhook", w)
		s.Set(id, Limits{MaxInFlight: 10}, true, t0)
		for i := range n / webhooks {
			s.Push(id, seq(i), t0.Add(time.Duration(i)), t0)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	runtime.KeepAlive(s)
	return float64(after.HeapAlloc-before.HeapAlloc) / float64(n)
}

// TestScheduler_memory queues a million deliveries: 24 bytes each, plus the
// slack of growing slices, must stay well under 100 MiB.
func TestScheduler_memory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates 1,000,000 deliveries")
	}
	for _, webhooks := range []int{1, 1000} {
		perItem := queueMemory(1_000_000, webhooks)
		t.Logf("1,000,000 deliveries over %d webhooks: %.1f bytes each, %.1f MiB", webhooks, perItem, perItem*1e6/(1<<20))
		require.True(t, perItem < 48, "%.1f bytes per queued delivery", perItem)
	}
}

// BenchmarkScheduler_memory reports the heap bytes per queued delivery
// (B/item) with a million of them, in one webhook.
func BenchmarkScheduler_memory(b *testing.B) {
	var perItem float64
	for range b.N {
		perItem = queueMemory(1_000_000, 1)
	}
	b.ReportMetric(perItem, "B/item")
}
