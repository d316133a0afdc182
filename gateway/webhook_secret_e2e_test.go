package gateway

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/verify"
)

// answers records the raw bodies of the API answers a test got, so that it
// can check what none of them may contain.
type answers struct {
	r   *running
	raw []string
}

// do sends a request, requires status want and decodes the answer into out
// (if not nil).
func (a *answers) do(tb testing.TB, method, path, body string, want int, out any) {
	tb.Helper()
	var raw json.RawMessage
	a.r.mustDo(tb, method, path, body, want, &raw)
	a.raw = append(a.raw, string(raw))
	if out != nil {
		require.NoError(tb, json.Unmarshal(raw, out))
	}
}

// requireNone fails if any answer contains s.
func (a *answers) requireNone(tb testing.TB, s, what string) {
	tb.Helper()
	for _, raw := range a.raw {
		require.False(tb, strings.Contains(raw, s), "an answer shows %s: %s", what, raw)
	}
}

// newSigningKey returns a "whsk_" Ed25519 signing key and its "whpk_"
// public key, made with the standard library alone.
func newSigningKey(tb testing.TB) (secret, public string) {
	tb.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	require.NoError(tb, err)
	return "whsk_" + base64.StdEncoding.EncodeToString(priv), "whpk_" + base64.StdEncoding.EncodeToString(pub)
}

// requireVerifies checks a received request against one public key with
// sdk/verify.
func requireVerifies(tb testing.TB, publicKey string, h hit) {
	tb.Helper()
	v, err := verify.New(publicKey)
	require.NoError(tb, err)
	require.NoError(tb, v.Verify(h.Header, h.Body), "sdk/verify with %s", publicKey)
}

// requirePublicKeyView checks how an answer shows a v1a webhook: no secret,
// the public key, and a hint of the public key.
func requirePublicKeyView(tb testing.TB, v webhookView) {
	tb.Helper()
	require.Equal(tb, "", v.Secret)
	require.True(tb, strings.HasPrefix(v.PublicKey, "whpk_"), "public_key %q", v.PublicKey)
	require.Equal(tb, "whpk_…"+v.PublicKey[len(v.PublicKey)-4:], v.SecretHint)
}

// TestWebhooks_privateKeyNeverShown checks that the Ed25519 private key of a
// v1a webhook ("whsk_") appears in no answer (create, get, list, patch,
// rotate) and no log line, whether the gateway generated it or the caller
// supplied it; the answers show the public key ("whpk_"), which verifies
// the deliveries before and after a rotation.
func TestWebhooks_privateKeyNeverShown(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, nil)
	a := &answers{r: r}

	var created, got, patched, rotated webhookView
	a.do(t, http.MethodPost, "/v1/webhooks", `{"url":`+quote(rc.URL)+`,"event_types":[">"],"signature_scheme":"v1a"}`, http.StatusCreated, &created)
	requirePublicKeyView(t, created)
	a.do(t, http.MethodGet, "/v1/webhooks/"+created.ID, "", http.StatusOK, &got)
	require.Equal(t, created.PublicKey, got.PublicKey)
	require.Equal(t, created.SecretHint, got.SecretHint)
	requirePublicKeyView(t, got)
	a.do(t, http.MethodGet, "/v1/webhooks", "", http.StatusOK, nil)
	a.do(t, http.MethodPatch, "/v1/webhooks/"+created.ID, `{"event_types":["a.>"]}`, http.StatusOK, &patched)
	requirePublicKeyView(t, patched)
	require.Equal(t, created.PublicKey, patched.PublicKey)

	e1 := r.publish(t, "a.b", `{"n":1}`)
	h1 := rc.waitCount(t, 1)[0]
	require.Equal(t, e1.ID, h1.ID)
	requireVerifies(t, created.PublicKey, h1)

	a.do(t, http.MethodPost, "/v1/webhooks/"+created.ID+"/secret/rotate", "", http.StatusOK, &rotated)
	requirePublicKeyView(t, rotated)
	require.True(t, rotated.PublicKey != created.PublicKey, "rotate must answer the new public key")
	e2 := r.publish(t, "a.b", `{"n":2}`)
	h2 := rc.waitCount(t, 2)[1]
	require.Equal(t, e2.ID, h2.ID)
	requireVerifies(t, rotated.PublicKey, h2)
	requireVerifies(t, created.PublicKey, h2) // the overlap

	// A caller may supply its own key, on create and on rotate; the
	// answers still show only the public half.
	sk1, pk1 := newSigningKey(t)
	sk2, pk2 := newSigningKey(t)
	var supplied webhookView
	a.do(t, http.MethodPost, "/v1/webhooks", `{"url":`+quote(rc.URL)+`,"event_types":["b.>"],"secret":`+quote(sk1)+`}`, http.StatusCreated, &supplied)
	requirePublicKeyView(t, supplied)
	require.Equal(t, pk1, supplied.PublicKey)
	a.do(t, http.MethodPost, "/v1/webhooks/"+supplied.ID+"/secret/rotate", `{"secret":`+quote(sk2)+`}`, http.StatusOK, &rotated)
	requirePublicKeyView(t, rotated)
	require.Equal(t, pk2, rotated.PublicKey)
	a.do(t, http.MethodGet, "/v1/webhooks", "", http.StatusOK, nil)

	a.requireNone(t, "whsk_", "a private key")
	for _, sk := range []string{sk1, sk2} {
		seed := strings.TrimPrefix(sk, "whsk_")[:40] // the seed's share of the base64
		a.requireNone(t, seed, "a supplied private key")
		require.False(t, strings.Contains(s.log.String(), seed), "the log shows a supplied private key")
	}
	require.False(t, strings.Contains(s.log.String(), "whsk_"), "the log shows a private key:\n%s", s.log.String())

	// A v1 webhook's secret is still shown in full by create and rotate
	// only: the receiver needs it to verify.
	var v1, v1Rotated webhookView
	a.raw = nil
	a.do(t, http.MethodPost, "/v1/webhooks", `{"url":`+quote(rc.URL)+`,"event_types":["c.>"]}`, http.StatusCreated, &v1)
	require.True(t, strings.HasPrefix(v1.Secret, "whsec_"), "secret %q", v1.Secret)
	require.Equal(t, "", v1.PublicKey)
	a.do(t, http.MethodPost, "/v1/webhooks/"+v1.ID+"/secret/rotate", "", http.StatusOK, &v1Rotated)
	require.True(t, strings.HasPrefix(v1Rotated.Secret, "whsec_") && v1Rotated.Secret != v1.Secret, "rotated secret %q", v1Rotated.Secret)
	a.raw = nil
	a.do(t, http.MethodGet, "/v1/webhooks/"+v1.ID, "", http.StatusOK, nil)
	a.do(t, http.MethodGet, "/v1/webhooks", "", http.StatusOK, nil)
	a.requireNone(t, `"secret":`, "a secret outside create and rotate")
}

// TestWebhooks_configSecretReadable checks that the secret the gateway
// generates for a config webhook without one can be read (GET
// /v1/webhooks/{id}/secret) and verifies its deliveries with sdk/verify;
// the same endpoint answers a config v1a webhook's public key, never its
// private key.
func TestWebhooks_configSecretReadable(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	rc := newReceiver(t, nil)
	sk, pk := newSigningKey(t)
	r := s.start(s.config(deliveryConfig() + "webhooks:\n" +
		"  - id: wh_yaml\n    url: " + rc.URL + "\n    event_types: [\"a.>\"]\n" +
		"  - id: wh_yaml_v1a\n    url: " + rc.URL + "\n    event_types: [\"b.>\"]\n    secret: " + sk + "\n"))
	a := &answers{r: r}

	var key struct {
		Key string `json:"key"`
	}
	a.do(t, http.MethodGet, "/v1/webhooks/wh_yaml/secret", "", http.StatusOK, &key)
	require.True(t, strings.HasPrefix(key.Key, "whsec_"), "key %q", key.Key)
	ev := r.publish(t, "a.b", `{"n":1}`)
	h := rc.waitCount(t, 1)[0]
	require.Equal(t, ev.ID, h.ID)
	requireVerifies(t, key.Key, h)

	a.do(t, http.MethodGet, "/v1/webhooks/wh_yaml_v1a/secret", "", http.StatusOK, &key)
	require.Equal(t, pk, key.Key)
	a.requireNone(t, "whsk_", "a private key")
	require.False(t, strings.Contains(s.log.String(), "whsk_"), "the log shows a private key")
}
