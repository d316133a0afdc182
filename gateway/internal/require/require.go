package require

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
)

// WaitLimit bounds every wait in Eventually and Receive.
const WaitLimit = time.Minute

// pollInterval is how often Eventually checks its condition.
const pollInterval = 5 * time.Millisecond

// Equal fails the test unless got equals want.
func Equal[T comparable](t testing.TB, want, got T, formatWithArgs ...any) {
	t.Helper()
	if want != got {
		fail(t, fmt.Sprintf("want %s, got %s", show(want), show(got)), formatWithArgs)
	}
}

// True fails the test with the given message unless ok is true.
func True(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Fatalf(format, args...)
	}
}

// False fails the test with the given message unless ok is false.
func False(t testing.TB, ok bool, format string, args ...any) {
	t.Helper()
	if ok {
		t.Fatalf(format, args...)
	}
}

// NoError fails the test if err is not nil.
func NoError(t testing.TB, err error, formatWithArgs ...any) {
	t.Helper()
	if err != nil {
		fail(t, fmt.Sprintf("unexpected error: %v", err), formatWithArgs)
	}
}

// Error fails the test if err is nil.
func Error(t testing.TB, err error, formatWithArgs ...any) {
	t.Helper()
	if err == nil {
		fail(t, "want an error, got nil", formatWithArgs)
	}
}

// ErrorIs fails the test unless errors.Is(err, target).
func ErrorIs(t testing.TB, err, target error, formatWithArgs ...any) {
	t.Helper()
	if !errors.Is(err, target) {
		fail(t, fmt.Sprintf("want error %v, got %v", target, err), formatWithArgs)
	}
}

// Contains fails the test unless s contains substr.
func Contains(t testing.TB, s, substr string, formatWithArgs ...any) {
	t.Helper()
	if !strings.Contains(s, substr) {
		fail(t, fmt.Sprintf("%q does not contain %q", s, substr), formatWithArgs)
	}
}

// Eventually calls cond until it returns true, failing the test if that has
// not happened within WaitLimit. what completes "gave up waiting for ...".
// cond runs on the test's goroutine and may itself fail the test.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(WaitLimit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
			return
		}
		time.Sleep(pollInterval)
	}
}

// Receive returns the next value from ch, failing the test if none comes
// within WaitLimit. what completes "gave up waiting for ...".
func Receive[V any](t testing.TB, ch <-chan V, what string) V {
	t.Helper()
	timer := time.NewTimer(WaitLimit)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("gave up waiting for %s", what)
		var zero V
		return zero
	}
}

// fail reports msg, prefixed by the caller's optional message: a format
// string and its arguments, or any values to print.
func fail(t testing.TB, msg string, formatWithArgs []any) {
	t.Helper()
	if len(formatWithArgs) > 0 {
		var prefix string
		if format, ok := formatWithArgs[0].(string); ok {
			prefix = fmt.Sprintf(format, formatWithArgs[1:]...)
		} else {
			prefix = fmt.Sprint(formatWithArgs...)
		}
		msg = prefix + ": " + msg
	}
	t.Fatalf("%s", msg)
}

// show formats v for a failure message: strings quoted, so that blanks and
// empty strings are visible, anything else as %v.
func show(v any) string {
	if s, ok := v.(string); ok {
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("%v", v)
}
