package main

import "time"

// The figures the delivery modes compute from what they counted. Each is a
// pure function, so that the arithmetic behind a reported figure is tested
// on its own.

// publishAt is when, after the start, paced publish k (from 0) is due at
// perSecond publishes a second.
func publishAt(perSecond float64, k int64) time.Duration {
	return time.Duration(float64(k) / perSecond * float64(time.Second))
}

// publishesDue is how many paced publishes are due elapsed after the start
// at perSecond a second: publish k is due at k/perSecond, so the first at
// once.
func publishesDue(perSecond float64, elapsed time.Duration) int64 {
	if elapsed < 0 || perSecond <= 0 {
		return 0
	}
	return int64(elapsed.Seconds()*perSecond) + 1
}

// endToEndRate is the end-to-end delivery rate: deliveries over the time
// spent publishing plus the time the backlog took to drain after it (from
// the end of publishing to the last arrival). 0 if no time passed.
func endToEndRate(deliveries int64, publish, drain time.Duration) float64 {
	if publish+drain <= 0 {
		return 0
	}
	return float64(deliveries) / (publish + drain).Seconds()
}

// cpuPerDeliveryMS is the gateway's CPU time per delivery in ms, from the
// clock ticks (clockTicks a second) it used while delivering deliveries.
// 0 without deliveries.
func cpuPerDeliveryMS(ticks, deliveries int64) float64 {
	if deliveries <= 0 {
		return 0
	}
	return float64(ticks) * 1000 / clockTicks / float64(deliveries)
}

// ratio is a over b, 0 if b is not positive.
func ratio(a, b float64) float64 {
	if b <= 0 {
		return 0
	}
	return a / b
}
