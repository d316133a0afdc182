// Package conformance is the gw_v1 conformance kit: reference plugins in
// every supported guest language (testdata/*.wat, testdata/*.c) that
// exercise every gw_v1 host function and every plugin kind, and one table
// test (conformance_test.go) that builds each language's plugins during the
// test run and runs the same assertions against every build under the real
// host (gateway/plugintest). See README.md.
package conformance
