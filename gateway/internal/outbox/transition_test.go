package outbox

import (
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStep is the delivery lifecycle, one transition per row: every status
// a delivery can be in, and every transition that moves it.
func TestStep(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	created := now.Add(-time.Hour)
	sched := Policy{Schedule: []time.Duration{time.Minute, time.Hour}}
	// in returns a delivery in status with attempts and base.
	in := func(status string, attempts, base int) Delivery {
		return Delivery{EventID: "evt_1", WebhookID: "wh_1", Status: status, Attempts: attempts, ScheduleBase: base,
			NextAttemptAt: now.Add(-time.Second), LastError: "earlier error", CreatedAt: created, UpdatedAt: created}
	}
	ok200 := func() *Attempt { return &Attempt{StatusCode: 200} }
	fail500 := func() *Attempt { return &Attempt{StatusCode: 500, Error: "500 Internal Server Error"} }

	tests := []struct {
		name string
		d    Delivery
		t    Transition
		p    Policy
		// want
		status   string
		note     string
		attempts int
		next     time.Time
		lastErr  string
		fx       Effects
	}{
		// Attempts.
		{name: "first attempt succeeds", d: in(StatusPending, 0, 0), t: Transition{Kind: AttemptSucceeded, Attempt: ok200()}, p: sched,
			status: StatusSucceeded, attempts: 1,
			fx: Effects{Write: true, Notify: TypeDeliverySucceeded, Endpoint: EndpointUp}},
		{name: "first attempt fails: first wait", d: in(StatusPending, 0, 0), t: Transition{Kind: AttemptFailed, Attempt: fail500()}, p: sched,
			status: StatusFailed, attempts: 1, next: now.Add(time.Minute), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown}},
		{name: "second failure: second wait", d: in(StatusFailed, 1, 0), t: Transition{Kind: AttemptFailed, Attempt: fail500()}, p: sched,
			status: StatusFailed, attempts: 2, next: now.Add(time.Hour), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown}},
		{name: "schedule spent: dead", d: in(StatusFailed, 2, 0), t: Transition{Kind: AttemptFailed, Attempt: fail500()}, p: sched,
			status: StatusDead, attempts: 3, lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Notify: TypeDeliveryDead, Endpoint: EndpointDown}},
		{name: "reopened delivery counts the schedule from its base", d: in(StatusPending, 3, 3), t: Transition{Kind: AttemptFailed, Attempt: fail500()}, p: sched,
			status: StatusFailed, attempts: 4, next: now.Add(time.Minute), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown}},
		{name: "empty schedule: dead at the first failure", d: in(StatusPending, 0, 0), t: Transition{Kind: AttemptFailed, Attempt: fail500()},
			status: StatusDead, attempts: 1, lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Notify: TypeDeliveryDead, Endpoint: EndpointDown}},
		{name: "Retry-After longer than the schedule's wait: waits it, and pauses the endpoint", d: in(StatusPending, 0, 0),
			t: Transition{Kind: AttemptFailed, Attempt: fail500(), RetryAfter: 2 * time.Minute}, p: sched,
			status: StatusFailed, attempts: 1, next: now.Add(2 * time.Minute), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown, PauseUntil: now.Add(2 * time.Minute)}},
		{name: "Retry-After shorter than the wait: the schedule wins for the delivery, the endpoint pauses", d: in(StatusFailed, 1, 0),
			t: Transition{Kind: AttemptFailed, Attempt: fail500(), RetryAfter: 5 * time.Second}, p: sched,
			status: StatusFailed, attempts: 2, next: now.Add(time.Hour), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown, PauseUntil: now.Add(5 * time.Second)}},
		{name: "Retry-After on the last attempt: dead, the endpoint still pauses", d: in(StatusFailed, 2, 0),
			t: Transition{Kind: AttemptFailed, Attempt: fail500(), RetryAfter: time.Minute}, p: sched,
			status: StatusDead, attempts: 3, lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Notify: TypeDeliveryDead, Endpoint: EndpointDown, PauseUntil: now.Add(time.Minute)}},
		{name: "410 Gone: parked, the webhook goes", d: in(StatusFailed, 1, 0), t: Transition{Kind: AttemptGone, Attempt: &Attempt{StatusCode: 410, Error: "410 Gone"}}, p: sched,
			status: StatusParked, note: NoteWebhookDisabled + ": " + ReasonGone, attempts: 2, lastErr: "410 Gone",
			fx: Effects{Write: true, Endpoint: EndpointGone}},
		{name: "jitter spreads the wait", d: in(StatusPending, 0, 0), t: Transition{Kind: AttemptFailed, Attempt: fail500()},
			p:      Policy{Schedule: sched.Schedule, Jitter: func(d time.Duration) time.Duration { return d / 2 }},
			status: StatusFailed, attempts: 1, next: now.Add(30 * time.Second), lastErr: "500 Internal Server Error",
			fx: Effects{Write: true, Queue: true, Notify: TypeDeliveryFailed, Endpoint: EndpointDown}},

		// Ended without a request: no attempt is counted.
		{name: "event gone: dead", d: in(StatusFailed, 1, 0), t: Transition{Kind: EventMissing},
			status: StatusDead, note: NoteEventMissing, attempts: 1, lastErr: "earlier error", fx: Effects{Write: true}},
		{name: "denied event: dropped, never sent", d: in(StatusPending, 0, 0), t: Transition{Kind: EventStopped, Detail: "fraud: deny (velocity)"},
			status: StatusDropped, note: NoteEventStopped, lastErr: "fraud: deny (velocity)", fx: Effects{Write: true}},
		{name: "the webhook's transform dropped it", d: in(StatusPending, 0, 0), t: Transition{Kind: TransformDropped, Detail: `transform "redact" answered drop`},
			status: StatusDropped, note: NoteTransformDropped, lastErr: `transform "redact" answered drop`, fx: Effects{Write: true}},
		{name: "transform missing: fail closed, held unsent, same status", d: in(StatusFailed, 1, 0),
			t:      Transition{Kind: TransformMissing, Recheck: 4 * time.Second, Detail: "not loaded"},
			status: StatusFailed, attempts: 1, next: now.Add(4 * time.Second), lastErr: "not loaded",
			fx: Effects{Write: true, Queue: true, Held: true}},

		// The webhook.
		{name: "disable parks a pending delivery", d: in(StatusPending, 0, 0), t: Transition{Kind: WebhookDisabled, Reason: ReasonOperator},
			status: StatusParked, note: NoteWebhookDisabled + ": " + ReasonOperator, lastErr: "earlier error", fx: Effects{Write: true}},
		{name: "disable parks a failed delivery", d: in(StatusFailed, 2, 0), t: Transition{Kind: WebhookDisabled, Reason: ReasonFailing},
			status: StatusParked, note: NoteWebhookDisabled + ": " + ReasonFailing, attempts: 2, lastErr: "earlier error", fx: Effects{Write: true}},
		{name: "disable leaves a finished delivery", d: in(StatusSucceeded, 1, 0), t: Transition{Kind: WebhookDisabled, Reason: ReasonOperator},
			status: StatusSucceeded, attempts: 1, next: now.Add(-time.Second), lastErr: "earlier error"},
		{name: "enable resumes a parked delivery, due now", d: in(StatusParked, 2, 0), t: Transition{Kind: WebhookEnabled},
			status: StatusPending, attempts: 2, lastErr: "earlier error", fx: Effects{Write: true, Queue: true}},
		{name: "enable leaves a pending delivery", d: in(StatusPending, 0, 0), t: Transition{Kind: WebhookEnabled},
			status: StatusPending, next: now.Add(-time.Second), lastErr: "earlier error"},
		{name: "delete ends an unfinished delivery", d: in(StatusParked, 1, 0), t: Transition{Kind: WebhookDeleted},
			status: StatusDead, note: NoteWebhookDeleted, attempts: 1, lastErr: "earlier error", fx: Effects{Write: true}},
		{name: "delete leaves a finished delivery", d: in(StatusDropped, 0, 0), t: Transition{Kind: WebhookDeleted},
			status: StatusDropped, next: now.Add(-time.Second), lastErr: "earlier error"},

		// Operators.
		{name: "retry of a waiting delivery: due now, schedule kept", d: in(StatusFailed, 1, 0), t: Transition{Kind: Retry},
			status: StatusFailed, attempts: 1, lastErr: "earlier error", fx: Effects{Write: true, Queue: true}},
		{name: "retry of a dead delivery: reopened with the whole schedule", d: in(StatusDead, 3, 0), t: Transition{Kind: Retry},
			status: StatusPending, note: NoteRetried, attempts: 3, lastErr: "earlier error", fx: Effects{Write: true, Queue: true}},
		{name: "retry of a parked delivery reopens it", d: in(StatusParked, 1, 0), t: Transition{Kind: Retry},
			status: StatusPending, note: NoteRetried, attempts: 1, lastErr: "earlier error", fx: Effects{Write: true, Queue: true}},
		{name: "replay of a succeeded delivery", d: in(StatusSucceeded, 1, 0), t: Transition{Kind: Replay},
			status: StatusPending, note: NoteReplayed, attempts: 1, lastErr: "earlier error", fx: Effects{Write: true, Queue: true}},
		{name: "discard a parked delivery: dead, on record", d: in(StatusParked, 0, 0), t: Transition{Kind: Discard},
			status: StatusDead, note: NoteDiscarded, lastErr: "earlier error", fx: Effects{Write: true}},
		{name: "discard leaves a pending delivery", d: in(StatusPending, 0, 0), t: Transition{Kind: Discard},
			status: StatusPending, next: now.Add(-time.Second), lastErr: "earlier error"},
		{name: "unknown transition changes nothing", d: in(StatusPending, 0, 0), t: Transition{Kind: Kind(200)},
			status: StatusPending, next: now.Add(-time.Second), lastErr: "earlier error"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, fx := Step(tc.d, tc.t, now, tc.p)
			require.Equal(t, tc.status, got.Status)
			require.Equal(t, tc.note, got.Note)
			require.Equal(t, tc.attempts, got.Attempts)
			require.Equal(t, tc.next, got.NextAttemptAt)
			require.Equal(t, tc.lastErr, got.LastError)
			wantUpdated := created
			if tc.fx.Write {
				wantUpdated = now
			}
			require.Equal(t, wantUpdated, got.UpdatedAt)
			if tc.t.Attempt != nil {
				require.Equal(t, tc.t.Attempt, fx.Attempt)
				require.Equal(t, got.Attempts, fx.Attempt.N)
				require.Equal(t, tc.t.Attempt.StatusCode, got.LastStatus)
				tc.fx.Attempt = tc.t.Attempt
			}
			require.Equal(t, tc.fx, fx)
			if got.Status == StatusPending && got.Note != "" {
				require.Equal(t, got.Attempts, got.ScheduleBase) // reopened: the whole schedule again
			}
		})
	}
}

// TestStep_lifecycle walks one delivery through a life: it fails, is
// parked by a disable, resumed, dies, is retried, succeeds and is
// replayed, and checks that the attempt numbers never repeat.
func TestStep_lifecycle(t *testing.T) {
	now := time.Date(2026, 12, 3, 10, 0, 0, 0, time.UTC)
	p := Policy{Schedule: []time.Duration{time.Second}}
	d := Delivery{EventID: "evt_1", WebhookID: "wh_1", Status: StatusPending, CreatedAt: now}
	seen := map[int]bool{}
	step := func(k Kind, status string) {
		t.Helper()
		tr := Transition{Kind: k}
		if k == AttemptFailed || k == AttemptSucceeded {
			tr.Attempt = &Attempt{}
		}
		var fx Effects
		d, fx = Step(d, tr, now, p)
		require.Equal(t, status, d.Status, "after %s", k)
		if fx.Attempt != nil {
			require.False(t, seen[fx.Attempt.N], "attempt %d numbered twice", fx.Attempt.N)
			seen[fx.Attempt.N] = true
		}
		now = now.Add(time.Second)
	}
	step(AttemptFailed, StatusFailed)
	step(WebhookDisabled, StatusParked)
	step(WebhookEnabled, StatusPending)
	step(AttemptFailed, StatusDead) // the schedule was not reset by the resume
	step(Retry, StatusPending)
	step(AttemptFailed, StatusFailed) // reopened: the whole schedule again
	step(AttemptSucceeded, StatusSucceeded)
	step(Replay, StatusPending)
	step(AttemptSucceeded, StatusSucceeded)
	require.Equal(t, 5, d.Attempts)
	require.Equal(t, 4, d.ScheduleBase)
}

// TestKind_String names every transition.
func TestKind_String(t *testing.T) {
	for k := AttemptSucceeded; k <= Discard; k++ {
		require.True(t, k.String() != "unknown transition", "kind %d has no name", k)
	}
	require.Equal(t, "unknown transition", Kind(0).String())
}
