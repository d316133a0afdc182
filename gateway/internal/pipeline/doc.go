// Package pipeline runs the plugin stages an event passes through after it
// is committed and before it fans out to webhooks:
//
//  1. filters, in config order, on matching event types: a deny stops the
//     event (status "denied"); a flag records its reason and lets it pass;
//  2. global transforms, in config order, on matching event types: each may
//     replace the data or drop the event.
//
// Per-webhook transforms and observers are not stages of this pipeline:
// the delivery engine applies a webhook's transform to that endpoint's copy,
// and observers get events from the bus.
//
// A Pipeline is immutable once built and safe for concurrent use; hot
// reload swaps a whole Pipeline.
package pipeline
