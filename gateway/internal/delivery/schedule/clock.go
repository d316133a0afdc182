package schedule

import (
	"math"
	"time"
)

// The scheduler keeps times as Unix nanoseconds: 8 bytes where a
// time.Time takes 24, and compared with one instruction. never stands for
// "no such time" (no pause, no open breaker); it is earlier than any
// time, so it drops out of every max.
const never = math.MinInt64

// maxSeconds is the last whole second whose Unix nanoseconds fit an int64.
const maxSeconds = math.MaxInt64 / int64(time.Second)

// nanos returns t in Unix nanoseconds, saturated to the int64 range (years
// 1677 to 2262): the zero time.Time becomes never.
func nanos(t time.Time) int64 {
	switch s := t.Unix(); {
	case s < -maxSeconds:
		return never
	case s >= maxSeconds:
		return math.MaxInt64
	}
	return t.UnixNano()
}

// addSat returns a+b, saturated to the int64 range.
func addSat(a, b int64) int64 {
	c := a + b
	if (c > a) != (b > 0) {
		if b > 0 {
			return math.MaxInt64
		}
		return math.MinInt64
	}
	return c
}
