package store

import (
	"context"
	"testing"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestStore_Stopped checks that the events the plugin pipeline stopped are
// told apart from the ones it let through (or never saw), with the verdict
// that stopped them, and that EventForDelivery hands the outcome along with
// the event as webhooks receive it.
func TestStore_Stopped(t *testing.T) {
	s, _ := openTemp(t, Options{})
	ctx := context.Background()
	res := appendOK(t, s, draft("a.b", `{"n":1}`), draft("a.b", `{"n":2}`), draft("a.b", `{"n":3}`), draft("a.b", `{"n":4}`))
	denied, dropped, replaced, untouched := res[0].Event.Seq, res[1].Event.Seq, res[2].Event.Seq, res[3].Event.Seq
	require.NoError(t, s.SaveOutcomes(ctx, []Outcome{
		{Seq: denied, Stopped: true, Verdicts: []pipeline.Verdict{
			{Plugin: "tag", Outcome: pipeline.OutcomeFlag, Reason: "odd"},
			{Plugin: "fraud", Outcome: pipeline.OutcomeDeny, Reason: "amount 20000 is above 10000"},
		}},
		{Seq: dropped, Stopped: true, Verdicts: []pipeline.Verdict{{Plugin: "scrub", Outcome: pipeline.OutcomeDrop, Error: "bad input"}}},
		{Seq: replaced, Data: []byte(`{"n":"three"}`), Verdicts: []pipeline.Verdict{{Plugin: "scrub", Outcome: pipeline.OutcomeReplace}}},
	}))

	got, err := s.Stopped(ctx, []event.Seq{denied, dropped, replaced, untouched})
	require.NoError(t, err)
	require.Equal(t, 2, len(got))
	require.Equal(t, "fraud: deny (amount 20000 is above 10000)", got[denied])
	require.Equal(t, "scrub: drop (error: bad input)", got[dropped])

	ev, o, err := s.EventForDelivery(ctx, denied)
	require.NoError(t, err)
	require.True(t, o.Stopped, "the outcome of a denied event must say stopped")
	require.Equal(t, 2, len(o.Verdicts))
	require.Equal(t, `{"n":1}`, string(ev.Data))
	ev, o, err = s.EventForDelivery(ctx, replaced)
	require.NoError(t, err)
	require.False(t, o.Stopped, "a replaced event is not stopped")
	require.Equal(t, `{"n":"three"}`, string(ev.Data))
	ev, o, err = s.EventForDelivery(ctx, untouched)
	require.NoError(t, err)
	require.Equal(t, "", o.Why())
	require.Equal(t, `{"n":4}`, string(ev.Data))
}
