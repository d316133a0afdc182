package pipeline

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

// fake is a hand-written Plugin whose answers the test sets.
type fake struct {
	verdict int32
	reason  string
	action  int32
	out     []byte
	err     error
	calls   int
	meta    abi.Meta
	data    []byte
}

func (f *fake) Filter(_ context.Context, meta abi.Meta, data []byte) (int32, string, error) {
	f.calls++
	f.meta, f.data = meta, data
	return f.verdict, f.reason, f.err
}

func (f *fake) Transform(_ context.Context, meta abi.Meta, data []byte) (int32, []byte, error) {
	f.calls++
	f.meta, f.data = meta, data
	return f.action, f.out, f.err
}

func stage(name string, kind abi.Kind, pattern string, p Plugin, onError string) Stage {
	var ps event.Patterns
	if pattern != "" {
		ps = event.Patterns{event.MustParsePattern(pattern)}
	}
	return Stage{Name: name, Kind: kind, Patterns: ps, OnError: onError, Plugin: p}
}

func testEvent() *event.Event {
	return &event.Event{ID: "evt_1", Type: "payment.created", Source: "/shop", Time: time.Date(2026, 11, 28, 10, 0, 0, 5, time.UTC), Data: []byte(`{"amount":10}`)}
}

func TestPipeline_Run(t *testing.T) {
	boom := errors.New("boom")
	tests := []struct {
		name     string
		stages   func() []Stage
		stopped  bool
		data     string
		outcomes []string
	}{
		{
			name: "allow and flag pass",
			stages: func() []Stage {
				return []Stage{stage("a", abi.KindFilter, ">", &fake{}, ""), stage("b", abi.KindFilter, "payment.*", &fake{verdict: abi.Flag, reason: "large"}, "")}
			},
			outcomes: []string{"allow", "flag"},
		},
		{
			name: "deny stops before later stages",
			stages: func() []Stage {
				return []Stage{stage("d", abi.KindFilter, ">", &fake{verdict: abi.Deny, reason: "velocity"}, ""), stage("x", abi.KindTransform, ">", &fake{action: abi.Drop}, "")}
			},
			stopped:  true,
			outcomes: []string{"deny"},
		},
		{
			name:     "non-matching stages do not run",
			stages:   func() []Stage { return []Stage{stage("d", abi.KindFilter, "order.>", &fake{verdict: abi.Deny}, "")} },
			outcomes: nil,
		},
		{
			name:     "filter error fails open by default",
			stages:   func() []Stage { return []Stage{stage("e", abi.KindFilter, ">", &fake{err: boom}, "")} },
			outcomes: []string{"allow"},
		},
		{
			name:     "filter error fails closed on deny",
			stages:   func() []Stage { return []Stage{stage("e", abi.KindFilter, ">", &fake{err: boom}, OnErrorDeny)} },
			stopped:  true,
			outcomes: []string{"deny"},
		},
		{
			name: "transforms chain",
			stages: func() []Stage {
				return []Stage{
					stage("t1", abi.KindTransform, ">", &fake{action: abi.Replaced, out: []byte(`{"a":1}`)}, ""),
					stage("t2", abi.KindTransform, ">", &fake{action: abi.Replaced, out: []byte(`{"a":2}`)}, ""),
				}
			},
			data:     `{"a":2}`,
			outcomes: []string{"replaced", "replaced"},
		},
		{
			name: "invalid JSON output keeps the original",
			stages: func() []Stage {
				return []Stage{stage("t", abi.KindTransform, ">", &fake{action: abi.Replaced, out: []byte(`{nope`)}, "")}
			},
			outcomes: []string{"allow"},
		},
		{
			name:     "transform error drops on drop",
			stages:   func() []Stage { return []Stage{stage("t", abi.KindTransform, ">", &fake{err: boom}, OnErrorDrop)} },
			stopped:  true,
			outcomes: []string{"drop"},
		},
		{
			name:     "per-webhook transforms are not pipeline stages",
			stages:   func() []Stage { return []Stage{stage("w", abi.KindTransform, "", &fake{action: abi.Drop}, "")} },
			outcomes: nil,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.stages())
			require.NoError(t, err)
			res := p.Run(context.Background(), testEvent())
			require.Equal(t, tc.stopped, res.Stopped)
			require.Equal(t, tc.data, string(res.Data))
			var got []string
			for _, v := range res.Verdicts {
				got = append(got, v.Outcome)
			}
			require.Equal(t, len(tc.outcomes), len(got), "outcomes %v", got)
			for i := range got {
				require.Equal(t, tc.outcomes[i], got[i])
			}
		})
	}
}

func TestPipeline_Run_passesMetaAndData(t *testing.T) {
	f := &fake{verdict: abi.Deny, reason: "r"}
	p, err := New([]Stage{stage("d", abi.KindFilter, ">", f, "")})
	require.NoError(t, err)
	res := p.Run(context.Background(), testEvent())
	require.Equal(t, 1, f.calls)
	require.Equal(t, abi.Meta{ID: "evt_1", Type: "payment.created", Source: "/shop", Time: "2026-11-28T10:00:00.000000005Z"}, f.meta)
	require.Equal(t, `{"amount":10}`, string(f.data))
	require.Equal(t, Verdict{Plugin: "d", Outcome: OutcomeDeny, Reason: "r"}, res.Verdicts[0])
}

func TestNew_refusesObservers(t *testing.T) {
	_, err := New([]Stage{stage("o", abi.KindObserver, ">", &fake{}, "")})
	require.Error(t, err)
	require.True(t, (*Pipeline)(nil).Empty(), "nil pipeline is empty")
}
