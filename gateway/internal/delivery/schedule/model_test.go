package schedule

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// The model is the scheduler's rules written the plain way: each webhook's
// deliveries in an unsorted slice, held ones marked, every question
// answered by scanning. runModel plays one random sequence of operations,
// at fake times, on both, and checks after each one that they agree.

type modelItem struct {
	n    int
	due  int64
	held bool
}

type modelHook struct {
	l       Limits
	enabled bool
	items   []modelItem
	busy    []int

	pause, hold             int64
	pauseReason, holdReason string
	misses                  int

	failures, trips int
	openUntil       int64
	failing         bool
	since           int64

	// The bucket as credit: nanoseconds' worth of tokens, up to capacity,
	// of which one token costs interval.
	rate                           float64
	interval, capacity, credit, at int64
}

type model struct {
	hooks map[string]*modelHook
}

func (m *model) set(id string, l Limits, enabled bool, now int64) {
	if l.Ordered || l.MaxInFlight < 1 {
		l.MaxInFlight = 1
	}
	h := m.hooks[id]
	if h == nil {
		h = &modelHook{pause: never, hold: never, openUntil: never, rate: -1}
		m.hooks[id] = h
	}
	if l.RateLimit != h.rate {
		h.rate, h.interval = l.RateLimit, 0
		if l.RateLimit > 0 {
			h.interval = int64(math.Round(1e9 / l.RateLimit))
			h.capacity = int64(math.Round((max(1, l.RateLimit)-1)*1e9/l.RateLimit)) + h.interval
			h.credit, h.at = h.capacity, now
		}
	}
	if enabled && !h.enabled {
		h.failures, h.trips, h.openUntil, h.failing = 0, 0, never, false
	}
	h.l, h.enabled = l, enabled
}

// head returns the index of h's first delivery, or -1.
func (h *modelHook) head() int {
	best := -1
	for i, it := range h.items {
		if best < 0 {
			best = i
			continue
		}
		b := h.items[best]
		if (!h.l.Ordered && it.due < b.due) || ((h.l.Ordered || it.due == b.due) && it.n < b.n) {
			best = i
		}
	}
	return best
}

func (h *modelHook) open() bool {
	return h.l.BreakerFailures > 0 && h.failures >= h.l.BreakerFailures
}

// earliest is when h can send next, if it can without a Done.
func (h *modelHook) earliest() (int64, bool) {
	limit := h.l.MaxInFlight
	if h.open() {
		limit = 1
	}
	i := h.head()
	if !h.enabled || i < 0 || len(h.busy) >= limit {
		return 0, false
	}
	t := max(h.items[i].due, h.pause, h.hold)
	if h.open() {
		t = max(t, h.openUntil)
	}
	if h.interval > 0 && h.credit < h.interval {
		t = max(t, h.at+h.interval-h.credit)
	}
	return t, true
}

func (h *modelHook) eligible(now int64) bool {
	t, ok := h.earliest()
	return ok && t <= now
}

// earliest is the earliest time any webhook can send.
func (m *model) earliest() (int64, bool) {
	var t int64
	found := false
	for _, h := range m.hooks {
		if e, ok := h.earliest(); ok && (!found || e < t) {
			t, found = e, true
		}
	}
	return t, found
}

// take hands out h's head at now.
func (h *modelHook) take(now int64) int {
	i := h.head()
	n := h.items[i].n
	h.items = slices.Delete(h.items, i, i+1)
	h.busy = append(h.busy, n)
	if h.interval > 0 {
		h.credit = min(h.capacity, h.credit+now-h.at) - h.interval
		h.at = now
	}
	return n
}

func (h *modelHook) release(n int) bool {
	i := slices.Index(h.busy, n)
	if i < 0 {
		return false
	}
	h.busy = slices.Delete(h.busy, i, i+1)
	return true
}

func (h *modelHook) done(n int, o Outcome, now int64) bool {
	if !h.release(n) {
		return false
	}
	h.misses = 0
	switch o {
	case Success:
		h.failures, h.trips, h.openUntil, h.failing = 0, 0, never, false
	case Failure:
		h.failures++
		if !h.failing {
			h.failing, h.since = true, now
		}
		if h.open() {
			h.trips++
			wait := time.Second
			if c := h.l.Cooldown; len(c) > 0 {
				wait = min(max(c[min(h.trips, len(c))-1], 0), MaxCooldown)
			}
			h.openUntil = now + int64(wait)
		}
		return h.enabled && h.l.DisableAfter > 0 && now-h.since >= int64(h.l.DisableAfter)
	}
	return false
}

func (h *modelHook) queued(n int) bool {
	return slices.ContainsFunc(h.items, func(it modelItem) bool { return it.n == n })
}

// sorted returns h's queued seqs in queue order.
func (h *modelHook) sorted() []int {
	c := &modelHook{l: h.l, items: slices.Clone(h.items)}
	var out []int
	for len(c.items) > 0 {
		i := c.head()
		out = append(out, c.items[i].n)
		c.items = slices.Delete(c.items, i, i+1)
	}
	return out
}

// ids are the webhooks the operations pick from; "x" is never Set.
var ids = []string{"a", "b", "c", "d", "x"}

// steps are the ways the fake clock moves; -1 means "to Wake".
var steps = []time.Duration{-1, -1, -1, 0, 1, time.Millisecond, 250 * time.Millisecond, time.Second, 7 * time.Second, time.Minute, 11 * time.Minute}

var rates = []float64{0, 0, 0.5, 1, 2.5, 10}

var schedules = [][]time.Duration{nil, {time.Second}, {time.Second, 5 * time.Second, time.Hour}, {-time.Second, 30 * time.Minute}}

var disableAfters = []time.Duration{0, 0, 2 * time.Second, time.Minute}

// offsets are due and pause times, from now; math.MinInt64 is the zero
// time.
var offsets = []time.Duration{math.MinInt64, -time.Second, 0, 0, time.Millisecond, 500 * time.Millisecond, 3 * time.Second, time.Minute, time.Hour}

// source reads choices from fuzz bytes.
type source struct {
	data []byte
}

func (s *source) more() bool { return len(s.data) > 0 }

func (s *source) pick(n int) int {
	if len(s.data) == 0 {
		return 0
	}
	b := s.data[0]
	s.data = s.data[1:]
	return int(b) % n
}

func pickOf[T any](s *source, xs []T) T { return xs[s.pick(len(xs))] }

// runModel plays the operations data encodes on a Scheduler and on the
// model, failing t at the first disagreement.
func runModel(t *testing.T, data []byte) {
	src := &source{data: data}
	s := New()
	m := &model{hooks: make(map[string]*modelHook)}
	now := t0.UnixNano()
	at := func() time.Time { return time.Unix(0, now) }
	timeAt := func(off time.Duration) time.Time {
		if off == math.MinInt64 {
			return time.Time{}
		}
		return at().Add(off)
	}
	var log []string
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s"+format, append([]any{trail(log, s, m)}, args...)...)
	}
	// inFlight picks a delivery in flight, or a made-up one.
	inFlight := func() (string, int) {
		id := pickOf(src, ids)
		h := m.hooks[id]
		if h == nil || len(h.busy) == 0 || src.pick(8) == 0 {
			return id, src.pick(16)
		}
		return id, pickOf(src, h.busy)
	}
	reasons := 0
	for src.more() {
		switch src.pick(18) {
		case 0, 1:
			d := pickOf(src, steps)
			if d < 0 {
				if w := s.Wake(); !w.IsZero() && w.UnixNano() > now {
					now = w.UnixNano()
				}
			} else {
				now += int64(d)
			}
			log = append(log, fmt.Sprintf("now +%d", now-t0.UnixNano()))
		case 2:
			id := pickOf(src, ids[:4])
			l := Limits{
				MaxInFlight:     src.pick(4),
				RateLimit:       pickOf(src, rates),
				Ordered:         src.pick(5) == 0,
				BreakerFailures: src.pick(4),
				Cooldown:        pickOf(src, schedules),
				DisableAfter:    pickOf(src, disableAfters),
			}
			enabled := src.pick(6) != 0
			log = append(log, fmt.Sprintf("Set %s %+v %v", id, l, enabled))
			s.Set(id, l, enabled, at())
			m.set(id, l, enabled, now)
		case 3:
			if src.pick(4) == 0 {
				id := pickOf(src, ids)
				log = append(log, "Remove "+id)
				s.Remove(id)
				delete(m.hooks, id)
			}
		case 4, 5, 6:
			id, n, off := pickOf(src, ids), src.pick(16), pickOf(src, offsets)
			h := m.hooks[id]
			if h != nil && (h.queued(n) || slices.Contains(h.busy, n)) {
				continue // the engine never does that
			}
			log = append(log, fmt.Sprintf("Push %s %d %v", id, n, off))
			if got := s.Push(id, seq(n), timeAt(off), at()); got != (h != nil) {
				fail("Push reported %v", got)
			}
			if h != nil {
				due := timeAt(off)
				if due.IsZero() {
					due = at()
				}
				h.items = append(h.items, modelItem{n: n, due: due.UnixNano()})
			}
		case 7, 8, 9, 10:
			for range 1 + src.pick(3) {
				id, sq, ok := s.Next(at())
				log = append(log, fmt.Sprintf("Next %s %d %v", id, seqNum(sq), ok))
				if !ok {
					for mid, h := range m.hooks {
						if h.eligible(now) {
							fail("Next handed out nothing; the model has %s eligible", mid)
						}
					}
					break
				}
				h := m.hooks[id]
				if h == nil || !h.eligible(now) {
					fail("Next handed out %s/%d; the model does not have %s eligible", id, seqNum(sq), id)
				}
				if want := h.items[h.head()].n; want != seqNum(sq) {
					fail("Next handed out %s/%d; the model's head is %d", id, seqNum(sq), want)
				}
				h.take(now)
			}
		case 11, 12:
			id, n := inFlight()
			o := Outcome(src.pick(3))
			log = append(log, fmt.Sprintf("Done %s %d %d", id, n, o))
			want := false
			if h := m.hooks[id]; h != nil {
				want = h.done(n, o, now)
			}
			if got := s.Done(id, seq(n), o, at()); got != want {
				fail("Done reported disable %v, the model %v", got, want)
			}
		case 13:
			id, off := pickOf(src, ids), pickOf(src, offsets)
			reasons++
			reason := fmt.Sprint("pause ", reasons)
			log = append(log, fmt.Sprintf("Pause %s %v", id, off))
			s.Pause(id, timeAt(off), reason)
			if h := m.hooks[id]; h != nil && off != math.MinInt64 && now+int64(off) > h.pause {
				h.pause, h.pauseReason = now+int64(off), reason
			}
		case 14:
			id, n := inFlight()
			off := pickOf(src, offsets[1:])
			reasons++
			reason := fmt.Sprint("hold ", reasons)
			log = append(log, fmt.Sprintf("Hold %s %d %v", id, n, off))
			s.Hold(id, seq(n), timeAt(off), reason, at())
			if h := m.hooks[id]; h != nil && h.release(n) {
				if now >= h.hold {
					h.misses++
				}
				until := now + int64(off)
				if until > h.hold {
					h.hold, h.holdReason = until, reason
				}
				h.items = append(h.items, modelItem{n: n, due: until, held: true})
			}
		case 15:
			log = append(log, "ReleaseHolds")
			s.ReleaseHolds(at())
			for _, h := range m.hooks {
				h.hold, h.holdReason, h.misses = never, "", 0
				for i := range h.items {
					if it := &h.items[i]; it.held {
						it.held, it.due = false, min(it.due, now)
					}
				}
			}
		case 16:
			id := pickOf(src, ids)
			var seqs []event.Seq
			var want []int
			h := m.hooks[id]
			for range 1 + src.pick(4) {
				n := src.pick(16)
				if slices.Contains(want, n) || slices.ContainsFunc(seqs, func(s event.Seq) bool { return seqNum(s) == n }) {
					continue
				}
				seqs = append(seqs, seq(n))
				switch {
				case h == nil || (!h.queued(n) && !slices.Contains(h.busy, n)):
					want = append(want, n)
				default:
					for i := range h.items {
						if h.items[i].n == n {
							h.items[i].due = min(h.items[i].due, now)
						}
					}
				}
			}
			log = append(log, fmt.Sprintf("MakeDue %s %s", id, nums(seqs)))
			got := s.MakeDue(id, seqs, at())
			if nums(got) != numList(want) {
				fail("MakeDue reported %s absent, the model %s", nums(got), numList(want))
			}
		case 17:
			if src.pick(4) == 0 {
				id := pickOf(src, ids)
				log = append(log, "Drain "+id)
				got := nums(s.Drain(id))
				var want []int
				if h := m.hooks[id]; h != nil {
					want = h.sorted()
					h.items = nil
				}
				if got != numList(want) {
					fail("Drain returned %s, the model %s", got, numList(want))
				}
			}
		}
		checkModel(t, s, m, now, log)
	}
}

// trail describes a failure: the last operations, and both sides' state.
func trail(log []string, s *Scheduler, m *model) string {
	var b strings.Builder
	b.WriteString("after ...\n")
	for _, l := range log[max(0, len(log)-30):] {
		b.WriteString("  " + l + "\n")
	}
	for _, id := range ids {
		if h := s.hooks[id]; h != nil {
			at, ok := h.eligible()
			fmt.Fprintf(&b, "scheduler %s: %+v eligible %d %v\n", id, *h, at-t0.UnixNano(), ok)
		}
		if h := m.hooks[id]; h != nil {
			at, ok := h.earliest()
			fmt.Fprintf(&b, "model %s: %+v earliest %d %v\n", id, *h, at-t0.UnixNano(), ok)
		}
	}
	return b.String()
}

func numList(ns []int) string {
	xs := make([]string, len(ns))
	for i, n := range ns {
		xs[i] = fmt.Sprint(n)
	}
	return list(xs)
}

// checkModel compares what s and m say at now about every webhook, and
// Wake with the model's earliest eligible time: never later (a late wake
// delays a delivery), and exact when that time is in the future (an early
// one wakes the engine for nothing).
func checkModel(t *testing.T, s *Scheduler, m *model, now int64, log []string) {
	t.Helper()
	fail := func(format string, args ...any) {
		t.Helper()
		t.Fatalf("%s"+format, append([]any{trail(log, s, m)}, args...)...)
	}
	w := s.Wake()
	e, ok := m.earliest()
	switch {
	case !ok && !w.IsZero():
		fail("Wake is %d, the model has nothing to wake for", w.UnixNano()-t0.UnixNano())
	case ok && w.IsZero():
		fail("Wake is zero, the model has a delivery eligible at %d", e-t0.UnixNano())
	case ok && e > now && w.UnixNano() != e:
		fail("Wake is %d, the model's next eligible time %d", w.UnixNano()-t0.UnixNano(), e-t0.UnixNano())
	case ok && e <= now && w.UnixNano() > now:
		fail("Wake is %d, after now (%d), where the model has a delivery eligible", w.UnixNano()-t0.UnixNano(), now-t0.UnixNano())
	}
	for _, id := range ids {
		h := m.hooks[id]
		var want Stats
		wantPause, wantMisses := "none", 0
		if h != nil {
			want = Stats{Queued: len(h.items), InFlight: len(h.busy)}
			until, reason := h.pause, h.pauseReason
			if h.hold > until {
				until, reason = h.hold, h.holdReason
			}
			if now < until {
				wantPause = fmt.Sprint(until-t0.UnixNano(), " ", reason)
			}
			wantMisses = h.misses
			for _, n := range h.busy {
				if !s.InFlight(id, seq(n)) {
					fail("%s/%d is not in flight", id, n)
				}
			}
		}
		if got := s.Stats(id); got != want {
			fail("Stats(%s) = %+v, the model %+v", id, got, want)
		}
		gotPause := "none"
		if until, reason, ok := s.Paused(id, time.Unix(0, now)); ok {
			gotPause = fmt.Sprint(until.UnixNano()-t0.UnixNano(), " ", reason)
		}
		if gotPause != wantPause {
			fail("Paused(%s) = %s, the model %s", id, gotPause, wantPause)
		}
		if got := s.Misses(id); got != wantMisses {
			fail("Misses(%s) = %d, the model %d", id, got, wantMisses)
		}
	}
}

// TestScheduler_model plays random operations on the Scheduler and the
// model (see runModel); the seeds are fixed, so a failure repeats.
func TestScheduler_model(t *testing.T) {
	seeds := 300
	if testing.Short() {
		seeds = 30
	}
	for seed := range uint64(seeds) {
		r := rand.New(rand.NewPCG(seed, 11))
		data := make([]byte, 4000)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		t.Run(fmt.Sprint("seed ", seed), func(t *testing.T) { runModel(t, data) })
	}
}

// FuzzScheduler is TestScheduler_model with the operations from the
// fuzzer.
func FuzzScheduler(f *testing.F) {
	f.Add([]byte{2, 0, 1, 0, 0, 0, 0, 1, 4, 0, 3, 2, 7, 0, 11, 0, 0, 2})
	f.Add([]byte("\x02\x00\x03\x02\x01\x03\x01\x01\x04\x00\x01\x00\x04\x00\x02\x00\x07\x02\x0b\x00\x00\x02\x00\x00\x07\x00"))
	f.Fuzz(runModel)
}
