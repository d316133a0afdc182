package wasmhost

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/abi"
)

// stageAdapter makes a *Plugin a pipeline.Plugin the way the plugins
// package's adapter does on its normal path: one Plugin.Filter, the result
// converted, and an errors.Is(err, ErrClosed) check that decides whether to
// retry on a newer version after a hot swap (never taken here). It is
// mirrored rather than imported because plugins imports this package and is
// being reworked; importing it would tie this package's test build to it.
type stageAdapter struct{ p *Plugin }

func (a stageAdapter) Filter(ctx context.Context, meta abi.Meta, data []byte) (int32, string, error) {
	r, err := a.p.Filter(ctx, meta, data)
	if errors.Is(err, ErrClosed) {
		return 0, "", err
	}
	return int32(r.Verdict), r.Reason, err
}

func (a stageAdapter) Transform(ctx context.Context, meta abi.Meta, data []byte) (int32, []byte, error) {
	r, err := a.p.Transform(ctx, meta, data)
	if errors.Is(err, ErrClosed) {
		return 0, nil, err
	}
	return int32(r.Action), r.Output, err
}

// allowStage is a pipeline.Plugin that allows at once, without wasm: the
// pipeline's own share of the cost.
type allowStage struct{}

func (allowStage) Filter(context.Context, abi.Meta, []byte) (int32, string, error) {
	return abi.Allow, "", nil
}

func (allowStage) Transform(context.Context, abi.Meta, []byte) (int32, []byte, error) {
	return abi.Unchanged, nil, nil
}

// BenchmarkPipeline_RunWATFilter is the per-event cost of the plugin path
// on dispatch: what delivery's fan-out (Engine.Handle) pays per event for
// one filter stage, pipeline.Run included (meta document with the time
// formatted, pattern match, the adapter, Plugin.Filter, the verdict).
//
//   - wat: testdata/verdict.wat with the limits the gateway gives a config
//     plugin by default (50 ms deadline with WithCloseOnContextDone on,
//     256 pages, pool of GOMAXPROCS), one filter stage matching ">".
//     Target: < 5 µs/op.
//   - wat/guard=off: the same with the deadline guard off, for contrast.
//   - no-wasm: the same one-stage pipeline whose plugin is a Go value that
//     allows at once, to separate pipeline.Run's share.
//
// A call that fails (a 50 ms stall on a loaded machine) fails open and is
// counted in errors/op rather than failing the benchmark.
func BenchmarkPipeline_RunWATFilter(b *testing.B) {
	ev := &event.Event{
		ID: "evt_1", Type: "order.created", Source: "shop",
		Time: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC),
		Data: benchData,
	}
	ctx := context.Background()
	newPipeline := func(b *testing.B, p pipeline.Plugin) *pipeline.Pipeline {
		pl, err := pipeline.New([]pipeline.Stage{{
			Name: "verdict", Kind: abi.KindFilter, OnError: pipeline.OnErrorAllow,
			Patterns: event.Patterns{event.MustParsePattern(">")}, Plugin: p,
		}})
		require.NoError(b, err)
		return pl
	}
	for _, tc := range []struct {
		name string
		wasm bool
		off  bool
	}{{"wat", true, false}, {"wat/guard=off", true, true}, {"no-wasm", false, false}} {
		b.Run(tc.name, func(b *testing.B) {
			var pl *pipeline.Pipeline
			if tc.wasm {
				r := newRuntime(b, Options{})
				p, err := r.Load(ctx, Spec{Name: "verdict", Wasm: wat(b, "verdict"), Kind: abi.KindFilter, Limits: Limits{noCloseOnDone: tc.off}})
				require.NoError(b, err)
				b.Cleanup(func() { _ = p.Close(context.Background()) })
				require.Equal(b, DefaultFilterTimeout, p.Limits().CallTimeout)
				pl = newPipeline(b, stageAdapter{p})
			} else {
				pl = newPipeline(b, allowStage{})
			}
			b.ReportAllocs()
			var errs int
			for b.Loop() {
				res := pl.Run(ctx, ev)
				if len(res.Verdicts) != 1 || res.Stopped || res.Verdicts[0].Outcome != pipeline.OutcomeAllow {
					b.Fatalf("result %+v", res)
				}
				if res.Verdicts[0].Error != "" {
					errs++
				}
			}
			b.ReportMetric(float64(errs)/float64(b.N), "errors/op")
		})
	}
}
