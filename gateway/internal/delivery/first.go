package delivery

import (
	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/outbox"
)

// maxFirstEvents and maxFirstBytes bound the events the loop keeps in
// memory for first attempts, by count and by data size: 4096 events of
// 1 MiB would be 4 GiB. A delivery past either bound reads its record and
// event back from the store when a worker takes it.
const (
	maxFirstEvents = 4096
	maxFirstBytes  = 16 << 20
)

// firstAttempt is a new delivery with its event, as fan-out handed them
// over, kept until its first attempt so that the worker reads nothing
// back.
type firstAttempt struct {
	d  outbox.Delivery
	ev *outgoing
}

type firstKey struct {
	webhookID string
	seq       event.Seq
}

// firstAttempts holds first attempts' events within maxFirstEvents and
// maxFirstBytes. It is owned by the loop goroutine. An event shared by
// several webhooks counts once per delivery: the bound errs on the safe
// side.
type firstAttempts struct {
	m     map[firstKey]*firstAttempt
	bytes int
}

func newFirstAttempts() firstAttempts {
	return firstAttempts{m: make(map[firstKey]*firstAttempt)}
}

// hold keeps d's event for its first attempt, if it fits.
func (f *firstAttempts) hold(d outbox.Delivery, ev *outgoing) {
	if len(f.m) >= maxFirstEvents || f.bytes+ev.size() > maxFirstBytes {
		return
	}
	f.m[firstKey{d.WebhookID, d.EventSeq}] = &firstAttempt{d: d, ev: ev}
	f.bytes += ev.size()
}

// take removes and returns the first attempt of seq to webhook id, if held.
func (f *firstAttempts) take(id string, seq event.Seq) *firstAttempt {
	k := firstKey{id, seq}
	fa := f.m[k]
	if fa != nil {
		delete(f.m, k)
		f.bytes -= fa.ev.size()
	}
	return fa
}

// forget drops what is held for seq to webhook id: its record changed.
func (f *firstAttempts) forget(id string, seq event.Seq) { f.take(id, seq) }

// drop forgets everything held for webhook id.
func (f *firstAttempts) drop(id string) {
	for k, fa := range f.m {
		if k.webhookID == id {
			delete(f.m, k)
			f.bytes -= fa.ev.size()
		}
	}
}
