package schedule

// ready is the webhooks that can send without waiting for a Done: a
// binary min-heap by the time each can send next (hook.key), then by
// hook.ticket, so that webhooks able to send at the same time take turns.
// Every webhook knows its index in it (-1: not in it), so that a change to
// one webhook costs O(log n).
type ready []*hook

// earlier reports whether a's turn comes before b's.
func earlier(a, b *hook) bool {
	if a.key != b.key {
		return a.key < b.key
	}
	return a.ticket < b.ticket
}

// fix puts h at its place after its key or ticket changed, adding it if it
// is not in the heap.
func (r *ready) fix(h *hook) {
	if h.index < 0 {
		h.index = len(*r)
		*r = append(*r, h)
		r.up(h.index)
		return
	}
	if i := h.index; !r.down(i) {
		r.up(i)
	}
}

// remove takes h out of the heap, if it is in it.
func (r *ready) remove(h *hook) {
	i := h.index
	if i < 0 {
		return
	}
	h.index = -1
	last := len(*r) - 1
	moved := (*r)[last]
	(*r)[last] = nil
	*r = (*r)[:last]
	if i == last {
		return
	}
	(*r)[i] = moved
	moved.index = i
	r.fix(moved)
}

// place puts h at index i.
func (r ready) place(h *hook, i int) {
	r[i] = h
	h.index = i
}

func (r ready) up(i int) {
	h := r[i]
	for i > 0 {
		p := (i - 1) / 2
		if !earlier(h, r[p]) {
			break
		}
		r.place(r[p], i)
		i = p
	}
	r.place(h, i)
}

// down moves the webhook at i towards the leaves and reports whether it
// moved.
func (r ready) down(i int) bool {
	start, h := i, r[i]
	for {
		c := 2*i + 1
		if c >= len(r) {
			break
		}
		if d := c + 1; d < len(r) && earlier(r[d], r[c]) {
			c = d
		}
		if !earlier(r[c], h) {
			break
		}
		r.place(r[c], i)
		i = c
	}
	r.place(h, i)
	return i > start
}
