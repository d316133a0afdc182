package require

import (
	"errors"
	"fmt"
	"io/fs"
	"testing"
)

// recorder is a testing.TB that records the failure instead of ending the
// test. The embedded TB is nil: calling any other method panics.
type recorder struct {
	testing.TB
	failed bool
	msg    string
}

func (r *recorder) Helper() {}

func (r *recorder) Fatalf(format string, args ...any) {
	r.failed = true
	r.msg = fmt.Sprintf(format, args...)
}

func TestRequire(t *testing.T) {
	wrapped := fmt.Errorf("open: %w", fs.ErrNotExist)
	tests := []struct {
		name    string
		check   func(t testing.TB)
		wantMsg string // "" means the check passes
	}{
		{"Equal", func(t testing.TB) { Equal(t, 1, 1) }, ""},
		{"Equal differs", func(t testing.TB) { Equal(t, 1, 2) }, "want 1, got 2"},
		{"Equal quotes strings", func(t testing.TB) { Equal(t, "a", "") }, `want "a", got ""`},
		{"Equal with a message", func(t testing.TB) { Equal(t, true, false, "case %d", 7) }, "case 7: want true, got false"},
		{"Equal with a plain message", func(t testing.TB) { Equal(t, 1, 2, 42) }, "42: want 1, got 2"},
		{"True", func(t testing.TB) { True(t, true, "never") }, ""},
		{"True fails", func(t testing.TB) { True(t, false, "n is %d", 3) }, "n is 3"},
		{"False", func(t testing.TB) { False(t, false, "never") }, ""},
		{"False fails", func(t testing.TB) { False(t, true, "it holds") }, "it holds"},
		{"NoError", func(t testing.TB) { NoError(t, nil) }, ""},
		{"NoError fails", func(t testing.TB) { NoError(t, errors.New("boom")) }, "unexpected error: boom"},
		{"NoError with a message", func(t testing.TB) { NoError(t, errors.New("boom"), "load %s", "x") }, "load x: unexpected error: boom"},
		{"Error", func(t testing.TB) { Error(t, errors.New("boom")) }, ""},
		{"Error fails", func(t testing.TB) { Error(t, nil) }, "want an error, got nil"},
		{"ErrorIs", func(t testing.TB) { ErrorIs(t, wrapped, fs.ErrNotExist) }, ""},
		{"ErrorIs fails", func(t testing.TB) { ErrorIs(t, wrapped, fs.ErrExist) }, "want error file already exists, got open: file does not exist"},
		{"ErrorIs nil", func(t testing.TB) { ErrorIs(t, nil, fs.ErrExist) }, "want error file already exists, got <nil>"},
		{"Contains", func(t testing.TB) { Contains(t, "haystack", "st") }, ""},
		{"Contains fails", func(t testing.TB) { Contains(t, "haystack", "needle") }, `"haystack" does not contain "needle"`},
		{"Eventually", func(t testing.TB) {
			n := 0
			Eventually(t, "three calls", func() bool { n++; return n == 3 })
		}, ""},
		{"Receive", func(t testing.TB) {
			ch := make(chan int, 1)
			ch <- 5
			Equal(t, 5, Receive(t, ch, "a value"))
		}, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &recorder{}
			tc.check(r)
			Equal(t, tc.wantMsg != "", r.failed, "failed")
			Equal(t, tc.wantMsg, r.msg)
		})
	}
}
