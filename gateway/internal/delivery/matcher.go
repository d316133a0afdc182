package delivery

import (
	"sync"

	"github.com/eventgw/gateway/gateway/event"
)

// matched is what fan-out needs to know about a webhook an event matches.
type matched struct {
	id      string
	enabled bool
}

// matcher is fan-out's view of the webhooks: which ones an event type
// matches. The loop changes it; fan-out reads it, concurrently.
type matcher struct {
	mu    sync.RWMutex
	hooks map[string]matchEntry
}

type matchEntry struct {
	patterns event.Patterns
	m        matched
}

func newMatcher() *matcher { return &matcher{hooks: make(map[string]matchEntry)} }

func (m *matcher) set(h *hook) {
	m.mu.Lock()
	m.hooks[h.wh.ID] = matchEntry{patterns: h.patterns, m: matched{id: h.wh.ID, enabled: h.wh.Enabled}}
	m.mu.Unlock()
}

func (m *matcher) remove(id string) {
	m.mu.Lock()
	delete(m.hooks, id)
	m.mu.Unlock()
}

// match returns the webhooks whose patterns match typ.
func (m *matcher) match(typ string) []matched {
	m.mu.RLock()
	defer m.mu.RUnlock()
	var out []matched
	for _, e := range m.hooks {
		if e.patterns.Match(typ) {
			out = append(out, e.m)
		}
	}
	return out
}
