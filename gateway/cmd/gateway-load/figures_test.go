package main

import (
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// TestPublishesDue checks the pacer's arithmetic: at 1000/s one publish is
// due per 1 ms tick, at 200/s one per 5 ticks, at 4000/s four per tick,
// and the first at once.
func TestPublishesDue(t *testing.T) {
	tests := []struct {
		perSecond float64
		elapsed   time.Duration
		want      int64
	}{
		{1000, 0, 1},
		{1000, 999 * time.Microsecond, 1},
		{1000, time.Millisecond, 2},
		{1000, time.Second, 1001},
		{200, 4 * time.Millisecond, 1},
		{200, 5 * time.Millisecond, 2},
		{200, 10 * time.Millisecond, 3},
		{4000, time.Millisecond, 5},
		{4000, 2 * time.Millisecond, 9},
		{1000, -time.Millisecond, 0},
		{0, time.Second, 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, publishesDue(tc.perSecond, tc.elapsed), "publishesDue(%v, %v)", tc.perSecond, tc.elapsed)
	}
	// Publish k is due exactly when publishesDue first counts it.
	for _, r := range []float64{200, 1000, 4000} {
		for k := int64(1); k < 50; k++ {
			at := publishAt(r, k)
			require.Equal(t, k+1, publishesDue(r, at+time.Nanosecond), "at %v/s, just after publish %d", r, k)
			require.Equal(t, k, publishesDue(r, at-time.Microsecond), "at %v/s, just before publish %d", r, k)
		}
	}
}

func TestEndToEndRate(t *testing.T) {
	tests := []struct {
		name           string
		deliveries     int64
		publish, drain time.Duration
		want           float64
	}{
		{"publish and drain", 9000, 8 * time.Second, time.Second, 1000},
		{"no drain", 8000, 8 * time.Second, 0, 1000},
		{"nothing delivered", 0, 8 * time.Second, time.Second, 0},
		{"no time", 10, 0, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, endToEndRate(tc.deliveries, tc.publish, tc.drain))
		})
	}
}

func TestCPUPerDeliveryMS(t *testing.T) {
	tests := []struct {
		name              string
		ticks, deliveries int64
		want              float64
	}{
		{"3 s of CPU over 10000", 300, 10000, 0.3},
		{"1 s over 1000", 100, 1000, 1},
		{"no CPU", 0, 1000, 0},
		{"no deliveries", 100, 0, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, cpuPerDeliveryMS(tc.ticks, tc.deliveries))
		})
	}
}

func TestRatio(t *testing.T) {
	require.Equal(t, 0.25, ratio(1, 4))
	require.Equal(t, 0.0, ratio(1, 0))
}

// TestQuantile checks the nearest-rank percentile every latency figure
// uses: p99 of 1..100 ms is 99 ms, of a single sample that sample.
func TestQuantile(t *testing.T) {
	var lat []time.Duration
	for i := 1; i <= 100; i++ {
		lat = append(lat, time.Duration(i)*time.Millisecond)
	}
	tests := []struct {
		sorted []time.Duration
		q      float64
		want   time.Duration
	}{
		{lat, 0.50, 50 * time.Millisecond},
		{lat, 0.95, 95 * time.Millisecond},
		{lat, 0.99, 99 * time.Millisecond},
		{lat, 1, 100 * time.Millisecond},
		{lat[:1], 0.99, time.Millisecond},
		{nil, 0.99, 0},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, quantile(tc.sorted, tc.q), "quantile of %d samples at %v", len(tc.sorted), tc.q)
	}
}

func TestParseRetry(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"none", []string{}, false},
		{"1h", []string{"1h"}, false},
		{"5s, 1m", []string{"5s", "1m"}, false},
		{"soon", nil, true},
		{"0s", nil, true},
	}
	for _, tc := range tests {
		got, err := parseRetry(tc.in)
		require.Equal(t, tc.wantErr, err != nil, "parseRetry(%q) error %v", tc.in, err)
		require.Equal(t, tc.want == nil, got == nil, "parseRetry(%q) = %q: nil or not", tc.in, got)
		require.Equal(t, len(tc.want), len(got), "parseRetry(%q) = %q", tc.in, got)
		for i := range got {
			require.Equal(t, tc.want[i], got[i], "parseRetry(%q)[%d]", tc.in, i)
		}
	}
}
