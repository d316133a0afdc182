// Package require holds the assertions the gateway's tests share, in the
// manner of wazero's internal/testing/require: a handful of functions that
// fail the test at once, with a message that shows what was wanted and what
// came instead. It depends on the standard library only and is meant for
// _test.go files.
//
// Every function calls t.Helper, so a failure is reported at the caller's
// line. Equal, NoError, Error, ErrorIs and Contains take an optional message:
// a format string and its arguments, prefixed to the failure. True and False
// require one, because "want true, got false" says nothing; they take
// testing.TB, not a narrower interface, so that go vet checks their format
// strings as it checks t.Fatalf.
//
// Eventually and Receive wait for another goroutine, at most WaitLimit. That
// bound is a hang guard, not an expectation: no test asserts on how long
// anything takes.
//
// The functions hold no state. Like t.Fatalf, which they call, they must run
// on the goroutine that runs the test.
package require
