package schedule

import (
	"encoding/binary"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// The table tests below drive a Scheduler through steps, each at a fake
// time (an offset from t0), and compare what each step observed, as text,
// with what it wants.

// t0 is the fake time the steps count from.
var t0 = time.Unix(1_700_000_000, 0)

// seq returns the n-th Seq: seqs sort as their n.
func seq(n int) event.Seq {
	var s event.Seq
	binary.BigEndian.PutUint64(s[8:], uint64(n))
	return s
}

// seqNum is seq's inverse.
func seqNum(s event.Seq) int { return int(binary.BigEndian.Uint64(s[8:])) }

// op is one step's action; it returns what it observed.
type op func(s *Scheduler, now time.Time) string

type step struct {
	at   time.Duration // now is t0+at
	do   op
	want string
}

// run plays steps on a new Scheduler.
func run(t *testing.T, steps []step) {
	t.Helper()
	s := New()
	for i, st := range steps {
		got := st.do(s, t0.Add(st.at))
		require.Equal(t, st.want, got, "step %d (at %s)", i, st.at)
	}
}

func set(id string, l Limits) op { return setEnabled(id, l, true) }

func setEnabled(id string, l Limits, enabled bool) op {
	return func(s *Scheduler, now time.Time) string {
		s.Set(id, l, enabled, now)
		return ""
	}
}

func remove(id string) op {
	return func(s *Scheduler, _ time.Time) string {
		s.Remove(id)
		return ""
	}
}

// push queues seq n, due at t0+due.
func push(id string, n int, due time.Duration) op {
	return pushAt(id, n, t0.Add(due))
}

// pushAt queues seq n, due at due (zero: now).
func pushAt(id string, n int, due time.Time) op {
	return func(s *Scheduler, now time.Time) string {
		if !s.Push(id, seq(n), due, now) {
			return "unknown"
		}
		return ""
	}
}

// pushes queues seqs from..to, due at t0.
func pushes(id string, from, to int) op {
	return func(s *Scheduler, now time.Time) string {
		for n := from; n <= to; n++ {
			s.Push(id, seq(n), t0, now)
		}
		return ""
	}
}

func next() op {
	return func(s *Scheduler, now time.Time) string {
		id, sq, ok := s.Next(now)
		if !ok {
			return "none"
		}
		return fmt.Sprintf("%s/%d", id, seqNum(sq))
	}
}

// nextAll calls Next until it reports false.
func nextAll() op {
	return func(s *Scheduler, now time.Time) string {
		var got []string
		for {
			id, sq, ok := s.Next(now)
			if !ok {
				break
			}
			got = append(got, fmt.Sprintf("%s/%d", id, seqNum(sq)))
		}
		return list(got)
	}
}

func list(xs []string) string {
	if len(xs) == 0 {
		return "none"
	}
	return strings.Join(xs, " ")
}

func nums(seqs []event.Seq) string {
	xs := make([]string, len(seqs))
	for i, s := range seqs {
		xs[i] = fmt.Sprint(seqNum(s))
	}
	return list(xs)
}

// wake shows Wake as an offset from t0.
func wake() op {
	return func(s *Scheduler, _ time.Time) string {
		w := s.Wake()
		if w.IsZero() {
			return "zero"
		}
		return w.Sub(t0).String()
	}
}

func done(id string, n int, o Outcome) op {
	return func(s *Scheduler, now time.Time) string {
		if s.Done(id, seq(n), o, now) {
			return "disable"
		}
		return ""
	}
}

func pause(id string, until time.Duration, reason string) op {
	return func(s *Scheduler, _ time.Time) string {
		s.Pause(id, t0.Add(until), reason)
		return ""
	}
}

func paused(id string) op {
	return func(s *Scheduler, now time.Time) string {
		until, reason, ok := s.Paused(id, now)
		if !ok {
			return "none"
		}
		return until.Sub(t0).String() + " " + reason
	}
}

func hold(id string, n int, until time.Duration, reason string) op {
	return func(s *Scheduler, now time.Time) string {
		s.Hold(id, seq(n), t0.Add(until), reason, now)
		return ""
	}
}

func misses(id string) op {
	return func(s *Scheduler, _ time.Time) string { return fmt.Sprint(s.Misses(id)) }
}

func releaseHolds() op {
	return func(s *Scheduler, now time.Time) string {
		s.ReleaseHolds(now)
		return ""
	}
}

// makeDue returns the seqs MakeDue reports absent.
func makeDue(id string, ns ...int) op {
	return func(s *Scheduler, now time.Time) string {
		seqs := make([]event.Seq, len(ns))
		for i, n := range ns {
			seqs[i] = seq(n)
		}
		return nums(s.MakeDue(id, seqs, now))
	}
}

func drain(id string) op {
	return func(s *Scheduler, _ time.Time) string { return nums(s.Drain(id)) }
}

func stats(id string) op {
	return func(s *Scheduler, _ time.Time) string {
		st := s.Stats(id)
		return fmt.Sprintf("queued %d, in flight %d", st.Queued, st.InFlight)
	}
}

func inFlight(id string, n int) op {
	return func(s *Scheduler, _ time.Time) string { return fmt.Sprint(s.InFlight(id, seq(n))) }
}
