package schedule

import "math"

// bucket is a webhook's rate limit: a token bucket of RateLimit tokens per
// second that holds at most max(1, RateLimit), kept as its theoretical
// arrival time (GCRA), in integer nanoseconds. That is the same bucket as
// counting float tokens (the engine's old bucket), with one difference that
// matters here: the time the next token arrives is exact, so Wake is
// neither a nanosecond late nor early, where float rounding could leave
// 0.9999999 tokens at the promised time and make the engine wake for
// nothing, again and again.
//
// The bucket holds tokens until tat-tau: one more is spent at t if
// t >= tat-tau, and moves tat to max(tat, t)+interval. tat <= t means a full
// bucket; interval 0 means no limit.
type bucket struct {
	interval int64 // nanoseconds per token
	tau      int64 // burst tolerance: (burst-1) tokens' worth
	tat      int64
}

// maxInterval bounds a token's interval (a rate of less than one token in
// about 73 years is no different from one in 73 years).
const maxInterval = math.MaxInt64 / 4

// newBucket returns the bucket of rate tokens per second, full at now. A
// rate that is not positive, or is too high to space tokens a nanosecond
// apart, does not limit.
func newBucket(rate float64, now int64) bucket {
	if !(rate > 0) {
		return bucket{}
	}
	perToken := 1e9 / rate
	if perToken < 1 {
		return bucket{}
	}
	burst := max(1, rate)
	return bucket{
		interval: int64(min(math.Round(perToken), maxInterval)),
		tau:      int64(min(math.Round((burst-1)*perToken), maxInterval)),
		tat:      now,
	}
}

// next is the earliest time a token is in the bucket.
func (b *bucket) next() int64 {
	if b.interval == 0 {
		return math.MinInt64
	}
	return addSat(b.tat, -b.tau)
}

// take spends a token at now; the caller checked next() <= now.
func (b *bucket) take(now int64) {
	if b.interval != 0 {
		b.tat = addSat(max(b.tat, now), b.interval)
	}
}
