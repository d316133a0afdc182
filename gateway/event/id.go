package event

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"strings"
	"sync"
	"time"
)

// IDPrefix is prepended to server-assigned event ids.
const IDPrefix = "evt_"

// Seq is a ULID: 48 bits of Unix milliseconds followed by 80 bits that are
// random for the first value of a millisecond and incremented after that.
// Its big-endian bytes sort in generation order, which makes it the store's
// key for events and its dispatch cursor.
type Seq [16]byte

// crockford is the ULID alphabet (Crockford's base32).
const crockford = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// Time returns the millisecond timestamp encoded in s.
func (s Seq) Time() time.Time {
	ms := binary.BigEndian.Uint64(s[:8]) >> 16
	return time.UnixMilli(int64(ms)).UTC()
}

// IsZero reports whether s is the zero Seq.
func (s Seq) IsZero() bool { return s == Seq{} }

// String returns the 26-character ULID text of s.
func (s Seq) String() string {
	var out [26]byte
	// 128 bits -> 26 base32 digits (the first digit carries 3 bits).
	hi := binary.BigEndian.Uint64(s[:8])
	lo := binary.BigEndian.Uint64(s[8:])
	for i := 25; i >= 0; i-- {
		out[i] = crockford[lo&31]
		lo = lo>>5 | hi<<59
		hi >>= 5
	}
	return string(out[:])
}

// ErrInvalidSeq is returned when text is not a ULID.
var ErrInvalidSeq = errors.New("invalid ulid")

// ParseSeq parses the 26-character ULID text produced by String.
func ParseSeq(text string) (Seq, error) {
	var s Seq
	if len(text) != 26 {
		return s, ErrInvalidSeq
	}
	var hi, lo uint64
	for i := 0; i < 26; i++ {
		v := decodeCrockford(text[i])
		if v < 0 || (i == 0 && v > 7) {
			return s, ErrInvalidSeq
		}
		hi = hi<<5 | lo>>59
		lo = lo<<5 | uint64(v)
	}
	binary.BigEndian.PutUint64(s[:8], hi)
	binary.BigEndian.PutUint64(s[8:], lo)
	return s, nil
}

func decodeCrockford(c byte) int {
	if c >= 'a' && c <= 'z' {
		c -= 'a' - 'A'
	}
	for i := 0; i < len(crockford); i++ {
		if crockford[i] == c {
			return i
		}
	}
	return -1
}

// SeqAt returns the smallest Seq of millisecond t; it is used as a range
// bound when scanning by time.
func SeqAt(t time.Time) Seq {
	var s Seq
	ms := t.UnixMilli()
	if ms < 0 {
		ms = 0
	}
	binary.BigEndian.PutUint64(s[:8], uint64(ms)<<16)
	return s
}

// IDGen generates strictly increasing Seqs, even within one millisecond and
// when the wall clock steps back. It is safe for concurrent use.
type IDGen struct {
	mu   sync.Mutex
	last Seq
	now  func() time.Time
}

// NewIDGen returns a generator that reads time from now (time.Now if nil).
func NewIDGen(now func() time.Time) *IDGen {
	if now == nil {
		now = time.Now
	}
	return &IDGen{now: now}
}

// Next returns a Seq greater than every Seq this generator returned before.
func (g *IDGen) Next() Seq { return g.NextAt(g.now()) }

// NextAt is Next for an event received at t. The Seq's timestamp is t's
// millisecond unless an earlier call already used a later one.
func (g *IDGen) NextAt(t time.Time) Seq {
	g.mu.Lock()
	defer g.mu.Unlock()
	ms := uint64(t.UnixMilli())
	lastMS := binary.BigEndian.Uint64(g.last[:8]) >> 16
	var s Seq
	if ms > lastMS {
		binary.BigEndian.PutUint64(s[:8], ms<<16)
		var r [10]byte
		_, _ = rand.Read(r[:]) // crypto/rand.Read never fails on supported platforms
		copy(s[6:], r[:])
		// Keep the top bit of the random part clear so that increments within
		// this millisecond cannot overflow into the timestamp.
		s[6] &= 0x7f
	} else {
		s = g.last
		increment(&s)
	}
	g.last = s
	return s
}

// increment adds one to the 80-bit random part of s, carrying into the
// timestamp only in the (practically impossible) case of 2^79 ids in one ms.
func increment(s *Seq) {
	for i := 15; i >= 0; i-- {
		s[i]++
		if s[i] != 0 {
			return
		}
	}
}

// NewIDGenAfter returns a generator whose first Seq is greater than last.
func NewIDGenAfter(last Seq, now func() time.Time) *IDGen {
	g := NewIDGen(now)
	g.last = last
	return g
}

// ParseServerID returns the Seq inside a server-assigned id ("evt_" + ULID).
// ok is false for any other id.
func ParseServerID(id string) (seq Seq, ok bool) {
	text, found := strings.CutPrefix(id, IDPrefix)
	if !found {
		return seq, false
	}
	seq, err := ParseSeq(text)
	return seq, err == nil
}
