package schedule

import (
	"encoding/binary"

	"github.com/eventgw/gateway/gateway/event"
)

// item is one queued delivery: 24 bytes, with no pointer for the garbage
// collector to follow.
type item struct {
	seq event.Seq
	due int64 // Unix nanoseconds
}

// queue is one webhook's queued deliveries: a binary min-heap by due time,
// then event order, or by event order alone when ordered. It is written
// out for item (no container/heap, whose Push boxes every item in an
// interface and so allocates).
type queue struct {
	items   []item
	ordered bool
}

// seqLess reports whether a comes before b in event order (a Seq's
// big-endian bytes sort in that order).
func seqLess(a, b *event.Seq) bool {
	ah, bh := binary.BigEndian.Uint64(a[:8]), binary.BigEndian.Uint64(b[:8])
	if ah != bh {
		return ah < bh
	}
	return binary.BigEndian.Uint64(a[8:]) < binary.BigEndian.Uint64(b[8:])
}

// before reports whether a goes before b.
func (q *queue) before(a, b *item) bool {
	if !q.ordered && a.due != b.due {
		return a.due < b.due
	}
	return seqLess(&a.seq, &b.seq)
}

// compare is before as a three-way comparison, for sorting.
func (q *queue) compare(a, b item) int {
	switch {
	case q.before(&a, &b):
		return -1
	case q.before(&b, &a):
		return 1
	}
	return 0
}

func (q *queue) len() int { return len(q.items) }

// head is the first item; the queue must not be empty.
func (q *queue) head() *item { return &q.items[0] }

func (q *queue) push(it item) {
	q.items = append(q.items, it)
	q.up(len(q.items) - 1)
}

// pop removes and returns the first item; the queue must not be empty.
func (q *queue) pop() item {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items = q.items[:last]
	if last > 0 {
		q.down(0)
	}
	q.shrink()
	return top
}

// init restores the heap order after items changed in place.
func (q *queue) init() {
	for i := len(q.items)/2 - 1; i >= 0; i-- {
		q.down(i)
	}
}

// shrink gives memory back once the queue has drained to a quarter of its
// capacity: a backlog of a million deliveries must not pin 24 MB after it
// is sent. Each shrink copies len items and halves the slack, so it costs
// O(1) per pop, amortized.
func (q *queue) shrink() {
	if c := cap(q.items); c > 256 && len(q.items) < c/4 {
		q.items = append(make([]item, 0, 2*len(q.items)), q.items...)
	}
}

// up moves the item at i towards the root, shifting the larger parents down
// into the hole instead of swapping.
func (q *queue) up(i int) {
	it := q.items[i]
	for i > 0 {
		p := (i - 1) / 2
		if !q.before(&it, &q.items[p]) {
			break
		}
		q.items[i] = q.items[p]
		i = p
	}
	q.items[i] = it
}

// down moves the item at i towards the leaves.
func (q *queue) down(i int) {
	n := len(q.items)
	it := q.items[i]
	for {
		c := 2*i + 1
		if c >= n {
			break
		}
		if r := c + 1; r < n && q.before(&q.items[r], &q.items[c]) {
			c = r
		}
		if !q.before(&q.items[c], &it) {
			break
		}
		q.items[i] = q.items[c]
		i = c
	}
	q.items[i] = it
}
