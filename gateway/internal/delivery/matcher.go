package delivery

import (
	"github.com/eventgw/gateway/gateway/event"
)

// matched is what fan-out needs to know about a webhook an event matches.
type matched struct {
	id      string
	enabled bool
}

// matcher is fan-out's view of the webhooks: which ones an event type
// matches, from a subject trie with a result cache (event.Index), so an
// event costs the same with 10,000 webhooks as with one. The loop changes
// it; fan-out reads it, concurrently (event.Index is safe for that).
type matcher struct {
	ix event.Index[matched]
}

func newMatcher() *matcher { return &matcher{} }

func (m *matcher) set(h *hook) {
	m.ix.Set(h.wh.ID, h.patterns, matched{id: h.wh.ID, enabled: h.wh.Enabled})
}

func (m *matcher) remove(id string) { m.ix.Delete(id) }

// match returns the webhooks whose patterns match typ. The slice is shared:
// read-only.
func (m *matcher) match(typ string) []matched { return m.ix.Match(typ) }
