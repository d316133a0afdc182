package delivery

import "time"

// bucket is a token bucket: rate tokens per second, holding at most
// max(1, rate) tokens. It is owned by the scheduler goroutine and not safe
// for concurrent use.
type bucket struct {
	rate   float64
	burst  float64
	tokens float64
	last   time.Time
}

func newBucket(rate float64, now time.Time) *bucket {
	if rate <= 0 {
		return nil
	}
	burst := max(1, rate)
	return &bucket{rate: rate, burst: burst, tokens: burst, last: now}
}

func (b *bucket) refill(now time.Time) {
	if el := now.Sub(b.last).Seconds(); el > 0 {
		b.tokens = min(b.burst, b.tokens+el*b.rate)
		b.last = now
	}
}

// take spends one token if there is one. Otherwise it returns the time the
// next token arrives. A nil bucket never limits.
func (b *bucket) take(now time.Time) (ok bool, next time.Time) {
	if b == nil {
		return true, time.Time{}
	}
	b.refill(now)
	if b.tokens >= 1 {
		b.tokens--
		return true, time.Time{}
	}
	wait := time.Duration((1 - b.tokens) / b.rate * float64(time.Second))
	return false, now.Add(wait)
}
