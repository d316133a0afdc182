package schedule

import (
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

const (
	ms = time.Millisecond
	s1 = time.Second
)

func TestScheduler_Next(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"due order, then seq order", []step{
			{0, set("a", Limits{MaxInFlight: 10}), ""},
			{0, push("a", 3, 3*s1), ""},
			{0, push("a", 2, s1), ""},
			{0, push("a", 1, s1), ""},
			{0, next(), "none"},
			{0, wake(), "1s"},
			{s1 - 1, next(), "none"},
			{s1, nextAll(), "a/1 a/2"},
			{s1, wake(), "3s"},
			{3 * s1, nextAll(), "a/3"},
			{3 * s1, wake(), "zero"},
		}},
		{"a zero due is now, a past one goes first", []step{
			{0, set("a", Limits{MaxInFlight: 10}), ""},
			{10 * s1, pushAt("a", 1, time.Time{}), ""},
			{10 * s1, push("a", 2, 2*s1), ""},
			{10 * s1, wake(), "2s"},
			{10 * s1, nextAll(), "a/2 a/1"},
			{10 * s1, wake(), "zero"},
		}},
		{"max in flight", []step{
			{0, set("a", Limits{MaxInFlight: 2}), ""},
			{0, pushes("a", 1, 3), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, wake(), "zero"},
			{0, stats("a"), "queued 1, in flight 2"},
			{s1, done("a", 1, Success), ""},
			{s1, wake(), "0s"},
			{s1, nextAll(), "a/3"},
		}},
		{"max in flight below 1 is 1", []step{
			{0, set("a", Limits{}), ""},
			{0, pushes("a", 1, 2), ""},
			{0, nextAll(), "a/1"},
		}},
		{"ordered: event order whatever the due, a failed head holds back the rest", []step{
			{0, set("a", Limits{MaxInFlight: 5, Ordered: true}), ""},
			{0, push("a", 3, 0), ""},
			{0, push("a", 1, 5*s1), ""},
			{0, push("a", 2, 0), ""},
			{0, next(), "none"},
			{0, wake(), "5s"},
			{5 * s1, nextAll(), "a/1"},
			{5 * s1, wake(), "zero"},
			{6 * s1, done("a", 1, Failure), ""},
			{6 * s1, push("a", 1, 10*s1), ""},
			{6 * s1, next(), "none"},
			{6 * s1, wake(), "10s"},
			{10 * s1, nextAll(), "a/1"},
			{11 * s1, done("a", 1, Success), ""},
			{11 * s1, nextAll(), "a/2"},
			{11 * s1, done("a", 2, Success), ""},
			{11 * s1, nextAll(), "a/3"},
		}},
		{"rate limit: a burst of max(1, rate), then one token each 1/rate", []step{
			{0, set("a", Limits{MaxInFlight: 10, RateLimit: 2}), ""},
			{0, pushes("a", 1, 6), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, wake(), "500ms"},
			{500*ms - 1, next(), "none"},
			{500 * ms, nextAll(), "a/3"},
			{500 * ms, wake(), "1s"},
			// Tokens pile up to the burst, no more.
			{10 * s1, nextAll(), "a/4 a/5"},
			{10 * s1, wake(), "10.5s"},
		}},
		{"rate limit: a fractional burst", []step{
			{0, set("a", Limits{MaxInFlight: 10, RateLimit: 2.5}), ""},
			{0, pushes("a", 1, 6), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, wake(), "200ms"},
			{200 * ms, nextAll(), "a/3"},
			{200 * ms, wake(), "600ms"},
		}},
		{"rate limit: below one per second, a burst of 1", []step{
			{0, set("a", Limits{MaxInFlight: 10, RateLimit: 0.5}), ""},
			{0, pushes("a", 1, 6), ""},
			{0, nextAll(), "a/1"},
			{0, wake(), "2s"},
		}},
		{"a disabled webhook hands out nothing and is not woken for", []step{
			{0, setEnabled("a", Limits{}, false), ""},
			{0, pushes("a", 1, 2), ""},
			{0, next(), "none"},
			{0, wake(), "zero"},
			{0, stats("a"), "queued 2, in flight 0"},
		}},
		{"unknown webhook", []step{
			{0, pushes("a", 1, 1), ""},
			{0, push("a", 2, 0), "unknown"},
			{0, next(), "none"},
			{0, wake(), "zero"},
			{0, stats("a"), "queued 0, in flight 0"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

func TestScheduler_Done(t *testing.T) {
	breaker := Limits{MaxInFlight: 2, BreakerFailures: 2, Cooldown: []time.Duration{s1, 5 * s1, time.Hour}}
	tests := []struct {
		name  string
		steps []step
	}{
		{"the breaker opens, probes one at a time, re-opens for the next cooldown (capped), closes on success", []step{
			{0, set("a", breaker), ""},
			{0, pushes("a", 1, 8), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, done("a", 1, Failure), ""},
			{0, nextAll(), "a/3"},
			{0, done("a", 2, Failure), ""}, // opens for 1 s
			{0, done("a", 3, Failure), ""}, // a failure of the open breaker: 5 s
			{0, next(), "none"},
			{0, wake(), "5s"},
			{5 * s1, nextAll(), "a/4"}, // half-open: one probe
			{5 * s1, wake(), "zero"},
			{6 * s1, done("a", 4, Failure), ""}, // third opening: an hour, capped at MaxCooldown
			{6 * s1, wake(), "10m6s"},
			{6*s1 + MaxCooldown, nextAll(), "a/5"},
			{6*s1 + MaxCooldown, done("a", 5, Success), ""},
			{6*s1 + MaxCooldown, nextAll(), "a/6 a/7"},
			{6*s1 + MaxCooldown, done("a", 6, Failure), ""},
			{6*s1 + MaxCooldown, done("a", 7, Failure), ""}, // opens again, for the first cooldown
			{6*s1 + MaxCooldown, wake(), "10m7s"},
		}},
		{"an unsent attempt neither fails nor succeeds", []step{
			{0, set("a", breaker), ""},
			{0, pushes("a", 1, 8), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, done("a", 1, Failure), ""},
			{0, done("a", 2, Unsent), ""},
			{0, nextAll(), "a/3 a/4"},
			{0, done("a", 3, Failure), ""},
			{0, next(), "none"},
			{0, wake(), "zero"}, // open, with a4 in flight
			{0, done("a", 4, Unsent), ""},
			{0, wake(), "1s"},
		}},
		{"a breaker of 0 failures never opens", []step{
			{0, set("a", Limits{MaxInFlight: 1, Cooldown: []time.Duration{time.Hour}}), ""},
			{0, pushes("a", 1, 8), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Failure), ""},
			{0, next(), "a/2"},
		}},
		{"auto-disable when the run of failures reaches DisableAfter; a success ends the run", []step{
			{0, set("a", Limits{MaxInFlight: 1, DisableAfter: time.Minute}), ""},
			{0, pushes("a", 1, 8), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Failure), ""},
			{30 * s1, next(), "a/2"},
			{60*s1 - 1, done("a", 2, Failure), ""},
			{60 * s1, next(), "a/3"},
			{60 * s1, done("a", 3, Failure), "disable"},
			{61 * s1, next(), "a/4"},
			{61 * s1, done("a", 4, Failure), "disable"}, // asks again while enabled
			{62 * s1, next(), "a/5"},
			{62 * s1, done("a", 5, Success), ""},
			{70 * s1, next(), "a/6"},
			{70 * s1, done("a", 6, Failure), ""}, // a new run, from 70 s
			{100 * s1, next(), "a/7"},
			{100 * s1, done("a", 7, Unsent), ""}, // does not end the run
			{130 * s1, next(), "a/8"},
			{130 * s1, done("a", 8, Failure), "disable"},
		}},
		{"a disabled webhook is not disabled again; enabling ends its run", []step{
			{0, set("a", Limits{MaxInFlight: 2, DisableAfter: time.Minute}), ""},
			{0, pushes("a", 1, 8), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, done("a", 1, Failure), ""},
			{time.Hour, setEnabled("a", Limits{MaxInFlight: 2, DisableAfter: time.Minute}, false), ""},
			{time.Hour, done("a", 2, Failure), ""},
			{time.Hour, stats("a"), "queued 6, in flight 0"},
			{time.Hour, set("a", Limits{MaxInFlight: 2, DisableAfter: time.Minute}), ""},
			{time.Hour, next(), "a/3"},
			{time.Hour, done("a", 3, Failure), ""},
		}},
		{"a Done that does not match an attempt in flight does nothing", []step{
			{0, set("a", Limits{MaxInFlight: 1, BreakerFailures: 1}), ""},
			{0, pushes("a", 1, 2), ""},
			{0, done("a", 1, Failure), ""},
			{0, done("b", 1, Failure), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Success), ""},
			{0, done("a", 1, Failure), ""}, // twice
			{0, next(), "a/2"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

func TestScheduler_Pause(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"a longer pause wins", []step{
			{0, set("a", Limits{MaxInFlight: 2}), ""},
			{0, pushes("a", 1, 2), ""},
			{0, pause("a", 10*s1, "first"), ""},
			{0, pause("a", 5*s1, "second"), ""},
			{0, paused("a"), "10s first"},
			{0, next(), "none"},
			{0, wake(), "10s"},
			{10 * s1, paused("a"), "none"},
			{10 * s1, nextAll(), "a/1 a/2"},
			{10 * s1, pause("a", 20*s1, "third"), ""},
			{10 * s1, paused("a"), "20s third"},
		}},
		{"the first probe waits for the pause", []step{
			{0, set("a", Limits{MaxInFlight: 2, BreakerFailures: 1, Cooldown: []time.Duration{s1}}), ""},
			{0, pushes("a", 1, 3), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, pause("a", 30*s1, "Retry-After: 30"), ""},
			{0, done("a", 1, Failure), ""},
			{0, done("a", 2, Unsent), ""},
			{0, wake(), "30s"},
			{30 * s1, nextAll(), "a/3"},
		}},
		{"a pause given after the breaker opened holds the probe as well", []step{
			{0, set("a", Limits{MaxInFlight: 1, BreakerFailures: 1, Cooldown: []time.Duration{s1}}), ""},
			{0, pushes("a", 1, 3), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Failure), ""},
			{0, pause("a", 30*s1, "Retry-After: 30"), ""},
			{0, wake(), "30s"},
		}},
		{"unknown webhook", []step{
			{0, pause("a", 30*s1, "x"), ""},
			{0, paused("a"), "none"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

func TestScheduler_Hold(t *testing.T) {
	const missing = `transform plugin "x" is not loaded`
	tests := []struct {
		name  string
		steps []step
	}{
		{"a round counts one miss and holds the webhook; the held come back when it ends", []step{
			{0, set("a", Limits{MaxInFlight: 2}), ""},
			{0, pushes("a", 1, 3), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, hold("a", 1, s1, missing), ""},
			{0, hold("a", 2, s1+ms, missing), ""},
			{0, misses("a"), "1"},
			{0, paused("a"), "1.001s " + missing},
			{0, stats("a"), "queued 3, in flight 0"},
			{0, inFlight("a", 1), "false"},
			{0, next(), "none"},
			{0, wake(), "1.001s"},
			{s1 + ms, nextAll(), "a/3 a/1"},
			{s1 + ms, hold("a", 3, 3*s1, missing), ""},
			{s1 + ms, hold("a", 1, 3*s1, missing), ""},
			{s1 + ms, misses("a"), "2"},
			{3 * s1, nextAll(), "a/2 a/1"},
			{3 * s1, done("a", 2, Unsent), ""},
			{3 * s1, misses("a"), "0"},
		}},
		{"ReleaseHolds makes the held due now, keeps a receiver's pause and the retries' own time", []step{
			{0, set("a", Limits{MaxInFlight: 2}), ""},
			{0, pushes("a", 1, 2), ""},
			{0, push("a", 3, time.Hour), ""},
			{0, nextAll(), "a/1 a/2"},
			{0, hold("a", 1, time.Minute, missing), ""},
			{0, hold("a", 2, time.Minute, missing), ""},
			{0, pause("a", 10*s1, "Retry-After: 10"), ""},
			{0, paused("a"), "1m0s " + missing},
			{5 * s1, releaseHolds(), ""},
			{5 * s1, misses("a"), "0"},
			{5 * s1, paused("a"), "10s Retry-After: 10"},
			{5 * s1, wake(), "10s"},
			{10 * s1, nextAll(), "a/1 a/2"},
			{10 * s1, done("a", 1, Success), ""},
			{10 * s1, done("a", 2, Success), ""},
			{10 * s1, wake(), "1h0m0s"},
		}},
		{"Hold of a delivery not in flight does nothing", []step{
			{0, set("a", Limits{MaxInFlight: 2}), ""},
			{0, pushes("a", 1, 1), ""},
			{0, hold("a", 1, time.Minute, missing), ""},
			{0, hold("b", 1, time.Minute, missing), ""},
			{0, misses("a"), "0"},
			{0, paused("a"), "none"},
			{0, nextAll(), "a/1"},
		}},
		{"an ordered webhook's held head still goes first", []step{
			{0, set("a", Limits{Ordered: true}), ""},
			{0, pushes("a", 1, 3), ""},
			{0, next(), "a/1"},
			{0, hold("a", 1, s1, missing), ""},
			{0, wake(), "1s"},
			{s1, nextAll(), "a/1"},
		}},
		{"an ordered webhook's held delivery waits behind an earlier seq", []step{
			{0, set("a", Limits{Ordered: true}), ""},
			{0, push("a", 3, 0), ""},
			{0, next(), "a/3"},
			{0, push("a", 2, time.Hour), ""},
			{0, hold("a", 3, s1, missing), ""},
			{0, wake(), "1h0m0s"},
			{time.Hour, nextAll(), "a/2"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

func TestScheduler_MakeDue(t *testing.T) {
	run(t, []step{
		{0, set("a", Limits{MaxInFlight: 1}), ""},
		{0, push("a", 1, time.Hour), ""},
		{0, push("a", 2, 2*time.Hour), ""},
		{0, push("a", 3, -s1), ""},
		{0, push("a", 4, -time.Hour), ""},
		{0, next(), "a/4"},
		{0, makeDue("a", 2, 4, 9, 8), "9 8"}, // 4 is in flight, 9 and 8 absent
		{0, inFlight("a", 4), "true"},
		{0, done("a", 4, Success), ""},
		{0, next(), "a/3"}, // due before 2, which is due now (not later)
		{0, done("a", 3, Success), ""},
		{0, next(), "a/2"},
		{0, done("a", 2, Success), ""},
		{0, next(), "none"},
		{0, wake(), "1h0m0s"},
		{0, makeDue("b", 1, 2), "1 2"},
	})
}

func TestScheduler_Drain(t *testing.T) {
	run(t, []step{
		{0, set("a", Limits{MaxInFlight: 2}), ""},
		{0, push("a", 3, 5*s1), ""},
		{0, push("a", 1, 5*s1), ""},
		{0, push("a", 2, s1), ""},
		{0, push("a", 4, 0), ""},
		{0, push("a", 5, 0), ""},
		{0, nextAll(), "a/4 a/5"},
		{0, hold("a", 5, time.Minute, "x"), ""},
		{0, drain("a"), "2 1 3 5"},
		{0, stats("a"), "queued 0, in flight 1"},
		{0, wake(), "zero"},
		{0, set("a", Limits{Ordered: true}), ""},
		{0, push("a", 3, 0), ""},
		{0, push("a", 1, 5*s1), ""},
		{0, push("a", 2, 0), ""},
		{0, drain("a"), "1 2 3"},
		{0, drain("b"), "none"},
	})
}

func TestScheduler_Remove(t *testing.T) {
	run(t, []step{
		{0, set("a", Limits{MaxInFlight: 2}), ""},
		{0, pushes("a", 1, 2), ""},
		{0, next(), "a/1"},
		{0, remove("a"), ""},
		{0, done("a", 1, Failure), ""},
		{0, next(), "none"},
		{0, wake(), "zero"},
		{0, push("a", 3, 0), "unknown"},
		{0, set("a", Limits{MaxInFlight: 2}), ""},
		{0, stats("a"), "queued 0, in flight 0"},
		{0, push("a", 1, 0), ""},
		{0, done("a", 1, Success), ""}, // the old attempt: not this one
		{0, stats("a"), "queued 1, in flight 0"},
		{0, remove("b"), ""},
	})
}

func TestScheduler_Set(t *testing.T) {
	tests := []struct {
		name  string
		steps []step
	}{
		{"disabling holds the queue, enabling resets the breaker", []step{
			{0, set("a", Limits{MaxInFlight: 2, BreakerFailures: 1, Cooldown: []time.Duration{time.Hour}}), ""},
			{0, pushes("a", 1, 4), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Failure), ""},
			{0, wake(), "10m0s"},
			{0, setEnabled("a", Limits{MaxInFlight: 2, BreakerFailures: 1}, false), ""},
			{0, wake(), "zero"},
			{0, push("a", 5, 0), ""},
			{0, stats("a"), "queued 4, in flight 0"},
			{s1, set("a", Limits{MaxInFlight: 2, BreakerFailures: 1}), ""},
			{s1, nextAll(), "a/2 a/3"},
		}},
		{"setting an enabled webhook again keeps its breaker", []step{
			{0, set("a", Limits{MaxInFlight: 2, BreakerFailures: 1}), ""},
			{0, pushes("a", 1, 4), ""},
			{0, next(), "a/1"},
			{0, done("a", 1, Failure), ""},
			{0, set("a", Limits{MaxInFlight: 3, BreakerFailures: 1}), ""},
			{0, wake(), "1s"},
		}},
		{"limits change at runtime", []step{
			{0, set("a", Limits{MaxInFlight: 1, RateLimit: 1}), ""},
			{0, pushes("a", 1, 9), ""},
			{0, nextAll(), "a/1"},
			{0, set("a", Limits{MaxInFlight: 3, RateLimit: 1}), ""},
			{0, wake(), "1s"}, // the same rate keeps its bucket
			{0, set("a", Limits{MaxInFlight: 3, RateLimit: 2}), ""},
			{0, nextAll(), "a/2 a/3"}, // a new rate starts a full bucket
			{0, set("a", Limits{MaxInFlight: 3}), ""},
			{0, wake(), "zero"},
			{0, done("a", 1, Success), ""},
			{0, nextAll(), "a/4"},
		}},
		{"a lower breaker threshold opens it half-open, 0 closes it", []step{
			{0, set("a", Limits{MaxInFlight: 3, BreakerFailures: 5}), ""},
			{0, pushes("a", 1, 9), ""},
			{0, nextAll(), "a/1 a/2 a/3"},
			{0, done("a", 1, Failure), ""},
			{0, done("a", 2, Failure), ""},
			{0, done("a", 3, Failure), ""},
			{0, set("a", Limits{MaxInFlight: 3, BreakerFailures: 2}), ""},
			{0, nextAll(), "a/4"},
			{0, set("a", Limits{MaxInFlight: 3}), ""},
			{0, nextAll(), "a/5 a/6"},
		}},
		{"turning Ordered on and off re-sorts the queue", []step{
			{0, set("a", Limits{MaxInFlight: 3}), ""},
			{0, push("a", 1, 5*s1), ""},
			{0, push("a", 2, 0), ""},
			{0, push("a", 3, s1), ""},
			{0, set("a", Limits{Ordered: true}), ""},
			{0, wake(), "5s"},
			{0, set("a", Limits{MaxInFlight: 3}), ""},
			{0, wake(), "0s"},
			{0, nextAll(), "a/2"},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { run(t, tc.steps) })
	}
}

// TestScheduler_fairness gives three webhooks a backlog and the engine one
// worker (one Next per Done): they take turns, the oldest backlog first.
func TestScheduler_fairness(t *testing.T) {
	s := New()
	for i, id := range []string{"a", "b", "c"} {
		s.Set(id, Limits{MaxInFlight: 10}, true, t0)
		for n := range 10 {
			// Older backlogs (earlier due times) do not jump the queue.
			s.Push(id, seq(n), t0.Add(-time.Duration(i*n)*time.Second), t0)
		}
	}
	var got []string
	now := t0
	for {
		id, sq, ok := s.Next(now)
		if !ok {
			break
		}
		got = append(got, id)
		now = now.Add(time.Millisecond)
		s.Done(id, sq, Success, now)
	}
	require.Equal(t, 30, len(got))
	for i, id := range got {
		require.Equal(t, []string{"c", "b", "a"}[i%3], id, "turn %d of %v", i, got)
	}
}

// TestScheduler_rewind sets the clock back: a webhook that just sent is
// not left waiting for the time of its last turn.
func TestScheduler_rewind(t *testing.T) {
	run(t, []step{
		{0, set("a", Limits{MaxInFlight: 5}), ""},
		{0, set("b", Limits{MaxInFlight: 5}), ""},
		{-time.Hour, pushes("a", 1, 3), ""},
		{-time.Hour, pushes("b", 1, 3), ""},
		{time.Hour, nextAll(), "a/1 b/1 a/2 b/2 a/3 b/3"},
		{time.Hour, push("a", 4, -time.Hour), ""},
		{0, wake(), "1h0m0s"},
		{0, next(), "a/4"},
		{0, wake(), "zero"},
	})
}

func TestCooldown(t *testing.T) {
	tests := []struct {
		schedule []time.Duration
		trips    int
		want     time.Duration
	}{
		{nil, 1, time.Second},
		{[]time.Duration{}, 3, time.Second},
		{[]time.Duration{2 * s1}, 1, 2 * s1},
		{[]time.Duration{2 * s1}, 3, 2 * s1},
		{[]time.Duration{s1, 5 * s1, time.Hour}, 2, 5 * s1},
		{[]time.Duration{s1, 5 * s1, time.Hour}, 3, MaxCooldown},
		{[]time.Duration{s1, 5 * s1, time.Hour}, 9, MaxCooldown},
		{[]time.Duration{-s1}, 1, 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, cooldown(tc.schedule, tc.trips), "%v, trip %d", tc.schedule, tc.trips)
	}
}
