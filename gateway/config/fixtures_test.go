package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// referenceEnv resolves every key_env and secret_env used by gateway.yaml
// and configs/*.yaml. Tests pass it instead of the process environment.
var referenceEnv = []string{
	"GATEWAY_ADMIN_KEY=admin-0123456789abcdef0123456789abcdef",
	"GATEWAY_CHECKOUT_KEY=checkout-0123456789abcdef0123456789",
	"GATEWAY_WEBHOOK_BILLING_SECRET=whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
	"GATEWAY_WEBHOOK_AUDIT_SECRET=whsec_ICEiIyQlJicoKSorLC0uLzAxMjM0NTY3ODk6Ozw9Pj8=",
	"GATEWAY_WEBHOOK_LINKS_SECRET=whsec_AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
}

// referenceFiles returns gateway.yaml and every file in configs/.
func referenceFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join("..", "..", "configs", "*.yaml"))
	require.NoError(tb, err)
	return append([]string{filepath.Join("..", "..", "gateway.yaml")}, files...)
}

// requireProblems asserts that err is a *ValidationError whose lines are
// exactly want, in order.
func requireProblems(tb testing.TB, err error, want []string) {
	tb.Helper()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		tb.Fatalf("want a *ValidationError, got %T: %v", err, err)
	}
	got := strings.Split(ve.Error(), "\n")
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		tb.Fatalf("problems differ\nwant:\n  %s\ngot:\n  %s", strings.Join(want, "\n  "), strings.Join(got, "\n  "))
	}
}

// writeConfig writes body as a YAML file in a fresh temp dir and returns its path.
func writeConfig(tb testing.TB, body string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), "gateway.yaml")
	require.NoError(tb, os.WriteFile(path, []byte(body), 0o600))
	return path
}
