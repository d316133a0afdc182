package event

import (
	"slices"
	"strings"
	"sync"
)

// indexCacheMax bounds the number of event types whose Match result an Index
// keeps. When a miss finds the cache full, about half of it is dropped.
const indexCacheMax = 4096

// Index maps keys, such as webhook ids, to a set of Patterns and a value, and
// answers "which values have a pattern that matches this event type?" at a
// cost that does not grow with the number of keys that do not match.
//
// It is a subject trie in the manner of the NATS sublist: one level per
// segment, with the literal children of a level in a map beside one "*" and
// one ">" child. Match walks the type segment by segment, so it visits only
// the branches that can match, and it caches each type's result until the
// next Set or Delete. The name is Index, not Sublist, because its keys are
// not subscriptions: it indexes values by pattern, and the caller decides
// what a value is.
//
// The zero Index is empty and ready to use. An Index is safe for concurrent
// use: Match takes a read lock, so any number of Match calls run at once, and
// Set and Delete take the write lock. A Match that misses the cache computes
// its result under the read lock and then takes the write lock briefly to
// store it, unless a Set or Delete came in between. The Index holds one
// mutex and runs no caller code while holding it, so it takes part in no
// lock order.
type Index[V any] struct {
	mu    sync.RWMutex
	root  indexNode[V]
	keys  map[string]*indexEntry[V]
	cache map[string][]V
	// gen counts Set and Delete calls, so that a Match that computed its
	// result before one of them does not store a stale result.
	gen uint64
}

// indexEntry is one key: its value and the distinct patterns it was set with.
type indexEntry[V any] struct {
	key      string
	value    V
	patterns Patterns
	// at[i] is where this entry stands in the ends of the level at which
	// patterns[i] ends, so that removing it is a swap with the last, not a
	// search.
	at []int
}

// indexEnd is a pattern that ends at a level: the entry, and which of its
// patterns it is.
type indexEnd[V any] struct {
	entry   *indexEntry[V]
	pattern int
}

// indexNode is one level of the trie: the patterns that end here, and the
// children for the next segment. The ends are a slice, not a map, because
// Match ranges over them, which costs less over a slice.
type indexNode[V any] struct {
	ends    []indexEnd[V]
	literal map[string]*indexNode[V]
	star    *indexNode[V] // "*": any one segment
	rest    *indexNode[V] // ">": one or more segments; it has ends only
}

// Len returns the number of keys.
func (ix *Index[V]) Len() int {
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	return len(ix.keys)
}

// Set adds key with patterns ps and value v, or replaces the patterns and
// value key had. A key whose patterns overlap is still matched once, and a
// key with no patterns, or only zero Patterns, matches nothing but is
// counted by Len. Set keeps a copy of ps, not ps itself.
func (ix *Index[V]) Set(key string, ps Patterns, v V) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	ix.invalidate()
	if old, ok := ix.keys[key]; ok {
		ix.remove(old)
	}
	e := &indexEntry[V]{key: key, value: v}
	for _, p := range ps {
		if len(p.segs) == 0 || slices.ContainsFunc(e.patterns, func(q Pattern) bool { return q.raw == p.raw }) {
			continue
		}
		e.patterns = append(e.patterns, p)
		e.at = append(e.at, 0)
		ix.root.insert(p.segs, indexEnd[V]{e, len(e.patterns) - 1})
	}
	if ix.keys == nil {
		ix.keys = make(map[string]*indexEntry[V])
	}
	ix.keys[key] = e
}

// Delete removes key. Deleting a key that is not there does nothing.
func (ix *Index[V]) Delete(key string) {
	ix.mu.Lock()
	defer ix.mu.Unlock()
	old, ok := ix.keys[key]
	if !ok {
		return
	}
	ix.invalidate()
	ix.remove(old)
	delete(ix.keys, key)
}

// Match returns the value of every key with at least one pattern that
// matches the event type typ, each key once, in ascending key order. It
// agrees with Patterns.Match: a type with an empty segment matches nothing.
//
// The slice is shared with the cache and with other callers of Match: it
// must be treated as read-only. It is a snapshot, which a later Set or
// Delete does not change. It is nil when nothing matches.
//
// A Match answered by the cache does not allocate. Otherwise its cost
// depends on the segments of typ, the branches of the trie that match them
// and the number of values returned, not on the keys that do not match.
func (ix *Index[V]) Match(typ string) []V {
	ix.mu.RLock()
	if vs, ok := ix.cache[typ]; ok {
		ix.mu.RUnlock()
		return vs
	}
	gen := ix.gen
	vs := ix.match(typ)
	ix.mu.RUnlock()

	if len(typ) > MaxTypeLen {
		return vs // not a valid type: not worth the cache's memory
	}
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.gen == gen {
		ix.store(typ, vs)
	}
	return vs
}

// match walks the trie for typ. The caller holds mu, for reading at least.
func (ix *Index[V]) match(typ string) []V {
	if !hasSegments(typ) {
		return nil
	}
	var buf [8]*indexEntry[V] // room for most results, off the heap
	found := ix.root.collect(typ, buf[:0])
	if len(found) == 0 {
		return nil
	}
	slices.SortFunc(found, func(a, b *indexEntry[V]) int { return strings.Compare(a.key, b.key) })
	found = slices.Compact(found) // a key reached by two patterns
	vs := make([]V, len(found))
	for i, e := range found {
		vs[i] = e.value
	}
	return vs
}

// store caches vs as the result for typ, first dropping about half of the
// cache if it is full. Go's map iteration order is unspecified, so which
// half goes is left to it; the cost is amortised over the misses that
// refill it. The caller holds mu for writing.
func (ix *Index[V]) store(typ string, vs []V) {
	if ix.cache == nil {
		ix.cache = make(map[string][]V)
	}
	if len(ix.cache) >= indexCacheMax {
		drop := len(ix.cache) / 2
		for t := range ix.cache {
			if drop == 0 {
				break
			}
			delete(ix.cache, t)
			drop--
		}
	}
	// A copy, so that a type sliced from a larger buffer does not pin it.
	ix.cache[strings.Clone(typ)] = vs
}

// invalidate forgets every cached result. The caller holds mu for writing.
func (ix *Index[V]) invalidate() {
	ix.gen++
	if len(ix.cache) > 0 {
		ix.cache = nil
	}
}

// remove takes e's patterns out of the trie. The caller holds mu for writing.
func (ix *Index[V]) remove(e *indexEntry[V]) {
	for i, p := range e.patterns {
		ix.root.remove(p.segs, indexEnd[V]{e, i})
	}
}

// insert adds end at the level the pattern segments segs lead to, creating
// levels as needed.
func (n *indexNode[V]) insert(segs []string, end indexEnd[V]) {
	for _, s := range segs {
		n = n.child(s, true)
	}
	end.entry.at[end.pattern] = len(n.ends)
	n.ends = append(n.ends, end)
}

// remove takes end out of the level segs lead to and prunes the levels left
// empty. It recurses once per segment; a pattern has at most 128.
func (n *indexNode[V]) remove(segs []string, end indexEnd[V]) {
	if len(segs) == 0 {
		i, last := end.entry.at[end.pattern], len(n.ends)-1
		moved := n.ends[last]
		n.ends[i], moved.entry.at[moved.pattern] = moved, i
		n.ends[last] = indexEnd[V]{}
		n.ends = n.ends[:last]
		return
	}
	c := n.child(segs[0], false)
	if c == nil {
		return
	}
	c.remove(segs[1:], end)
	if !c.empty() {
		return
	}
	switch segs[0] {
	case "*":
		n.star = nil
	case ">":
		n.rest = nil
	default:
		delete(n.literal, segs[0])
	}
}

// child returns the child for the pattern segment s, creating it if create
// is set, or nil.
func (n *indexNode[V]) child(s string, create bool) *indexNode[V] {
	var p **indexNode[V]
	switch s {
	case "*":
		p = &n.star
	case ">":
		p = &n.rest
	default:
		if c := n.literal[s]; c != nil || !create {
			return c
		}
		if n.literal == nil {
			n.literal = make(map[string]*indexNode[V])
		}
		c := &indexNode[V]{}
		n.literal[s] = c
		return c
	}
	if *p == nil && create {
		*p = &indexNode[V]{}
	}
	return *p
}

// empty reports whether no pattern ends at n and n has no children.
func (n *indexNode[V]) empty() bool {
	return len(n.ends) == 0 && len(n.literal) == 0 && n.star == nil && n.rest == nil
}

// collect appends to found the entries of every pattern below n that
// matches typ, which is one or more non-empty segments, and returns the
// extended slice. An entry reached by two of its patterns is appended twice.
func (n *indexNode[V]) collect(typ string, found []*indexEntry[V]) []*indexEntry[V] {
	if n.rest != nil {
		found = n.rest.appendEntries(found)
	}
	seg, tail, more := typ, "", false
	if dot := strings.IndexByte(typ, '.'); dot >= 0 {
		seg, tail, more = typ[:dot], typ[dot+1:], true
	}
	for _, c := range [2]*indexNode[V]{n.literal[seg], n.star} {
		switch {
		case c == nil:
		case more:
			found = c.collect(tail, found)
		default:
			found = c.appendEntries(found)
		}
	}
	return found
}

// appendEntries appends the entry of every pattern that ends at n.
func (n *indexNode[V]) appendEntries(found []*indexEntry[V]) []*indexEntry[V] {
	for _, end := range n.ends {
		found = append(found, end.entry)
	}
	return found
}
