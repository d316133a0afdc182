package pipeline

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/sdk/abi"
)

// Plugin is what the pipeline calls: a loaded filter or transform.
type Plugin interface {
	// Filter returns abi.Allow, abi.Flag or abi.Deny with a reason.
	Filter(ctx context.Context, meta abi.Meta, data []byte) (verdict int32, reason string, err error)
	// Transform returns abi.Unchanged, abi.Replaced (with out) or abi.Drop.
	Transform(ctx context.Context, meta abi.Meta, data []byte) (action int32, out []byte, err error)
}

// On-error policies.
const (
	OnErrorAllow = "allow" // filter fails open (default)
	OnErrorDeny  = "deny"  // filter fails closed
	OnErrorPass  = "pass"  // transform keeps the original data (default)
	OnErrorDrop  = "drop"  // transform drops the event
)

// Stage is one plugin in the pipeline.
type Stage struct {
	Name     string
	Kind     abi.Kind // KindFilter or KindTransform
	Patterns event.Patterns
	OnError  string
	Plugin   Plugin
}

// Verdict outcomes recorded per stage.
const (
	OutcomeAllow   = "allow"
	OutcomeFlag    = "flag"
	OutcomeDeny    = "deny"
	OutcomeReplace = "replaced"
	OutcomeDrop    = "drop"
	OutcomeError   = "error"
)

// Verdict is what one stage did to an event; every stage that ran leaves one.
type Verdict struct {
	Plugin  string `json:"plugin"`
	Outcome string `json:"outcome"`
	Reason  string `json:"reason,omitempty"`
	// Error is the plugin failure, when Outcome is error or the on_error
	// policy decided the outcome.
	Error string `json:"error,omitempty"`
}

// Failed reports whether the plugin failed (a timeout, a busy pool, a
// crash, a bad result) rather than decided: a deny that on_error: deny
// made out of a failure is Failed, a deny the plugin returned is not.
// Callers that must tell the two apart (the ingest handler answers 503 to
// one and 403 to the other) ask this, never Error or Reason.
func (v Verdict) Failed() bool { return v.Error != "" }

// Result is what the pipeline decided for one event.
type Result struct {
	Verdicts []Verdict
	// Stopped is true when a filter denied the event or a transform dropped
	// it: it is not delivered.
	Stopped bool
	// Data is the data to deliver; nil means the original.
	Data []byte
}

// Pipeline is an ordered list of stages: all filters run before any
// transform.
type Pipeline struct {
	filters    []Stage
	transforms []Stage
}

// New builds a pipeline from stages in config order. Transforms without
// patterns are per-webhook only and are left out.
func New(stages []Stage) (*Pipeline, error) {
	p := &Pipeline{}
	for _, s := range stages {
		switch s.Kind {
		case abi.KindFilter:
			p.filters = append(p.filters, s)
		case abi.KindTransform:
			if len(s.Patterns) > 0 {
				p.transforms = append(p.transforms, s)
			}
		default:
			return nil, fmt.Errorf("pipeline: stage %q: kind %q cannot run in the pipeline", s.Name, s.Kind)
		}
	}
	return p, nil
}

// Empty reports whether the pipeline has no stage, so callers can skip it.
func (p *Pipeline) Empty() bool { return p == nil || len(p.filters)+len(p.transforms) == 0 }

// Meta returns the meta document plugins receive for ev.
func Meta(ev *event.Event, webhookID string) abi.Meta {
	return abi.Meta{ID: ev.ID, Type: ev.Type, Source: ev.Source, Time: ev.Time.Format(time.RFC3339Nano), WebhookID: webhookID}
}

// Run passes ev through the filters and then the global transforms.
func (p *Pipeline) Run(ctx context.Context, ev *event.Event) Result {
	var res Result
	if p.Empty() {
		return res
	}
	meta := Meta(ev, "")
	for _, s := range p.filters {
		if !s.Patterns.Match(ev.Type) {
			continue
		}
		v := runFilter(ctx, s, meta, ev.Data)
		res.Verdicts = append(res.Verdicts, v)
		if v.Outcome == OutcomeDeny {
			res.Stopped = true
			return res
		}
	}
	data := []byte(ev.Data)
	for _, s := range p.transforms {
		if !s.Patterns.Match(ev.Type) {
			continue
		}
		v, out := RunTransform(ctx, s, meta, data)
		res.Verdicts = append(res.Verdicts, v)
		switch v.Outcome {
		case OutcomeDrop:
			res.Stopped = true
			return res
		case OutcomeReplace:
			data = out
			res.Data = out
		}
	}
	return res
}

func runFilter(ctx context.Context, s Stage, meta abi.Meta, data []byte) Verdict {
	v := Verdict{Plugin: s.Name}
	verdict, reason, err := s.Plugin.Filter(ctx, meta, data)
	switch {
	case err != nil:
		v.Error = err.Error()
		v.Outcome = OutcomeAllow
		if s.OnError == OnErrorDeny {
			v.Outcome = OutcomeDeny
		}
	case verdict == abi.Allow:
		v.Outcome = OutcomeAllow
	case verdict == abi.Flag:
		v.Outcome, v.Reason = OutcomeFlag, reason
	case verdict == abi.Deny:
		v.Outcome, v.Reason = OutcomeDeny, reason
	default:
		v.Outcome, v.Error = OutcomeError, fmt.Sprintf("unknown verdict %d", verdict)
		if s.OnError == OnErrorDeny {
			v.Outcome = OutcomeDeny
		}
	}
	return v
}

// RunTransform applies one transform stage to data. It is also how the
// delivery engine applies a webhook's own transform.
func RunTransform(ctx context.Context, s Stage, meta abi.Meta, data []byte) (Verdict, []byte) {
	v := Verdict{Plugin: s.Name}
	action, out, err := s.Plugin.Transform(ctx, meta, data)
	if err == nil && action == abi.Replaced && !json.Valid(out) {
		err = fmt.Errorf("transform output is not valid JSON")
	}
	switch {
	case err != nil:
		v.Error = err.Error()
		v.Outcome = OutcomeAllow // keep the original
		if s.OnError == OnErrorDrop {
			v.Outcome = OutcomeDrop
		}
		return v, data
	case action == abi.Unchanged:
		v.Outcome = OutcomeAllow
		return v, data
	case action == abi.Replaced:
		v.Outcome = OutcomeReplace
		return v, out
	case action == abi.Drop:
		v.Outcome = OutcomeDrop
		return v, nil
	}
	v.Outcome, v.Error = OutcomeError, fmt.Sprintf("unknown transform result %d", action)
	return v, data
}
