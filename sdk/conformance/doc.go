// Package conformance is the gw_v1 conformance kit: reference plugins in
// every supported guest language (testdata/*.wat, testdata/*.c,
// testdata/*.ts) that exercise every gw_v1 host function and every plugin
// kind, and one table test (conformance_test.go) that builds each
// language's plugins during the test run and runs the same assertions
// against every build under the real host (gateway/plugintest). It also
// tests that sdk/abi/README.md, the ABI's reference in WAT, is what the
// host accepts (abi_readme_test.go). See README.md.
//
// The kit is a module of its own, github.com/eventgw/gateway/sdk/conformance,
// because it needs the gateway's host and the SDK module must not depend on
// the gateway. It has only tests.
package conformance
