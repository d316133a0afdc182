package delivery

import (
	"bytes"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/webhook"
	"github.com/eventgw/gateway/sdk/verify"
)

// The Standard Webhooks reference message and its two published signatures.
const (
	refSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refKey       = "whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="
	refPublicKey = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
	refMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refTimestamp = 1614265330
	refBody      = `{"test": 2432232314}`
	refV1        = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	refV1a       = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
)

// vector is one entry of testdata/vectors.json, the signing conformance
// vectors in the layout of Convoy's signature-vectors.json. The same file,
// byte for byte, drives sdk/verify's tests (TestVectors_identicalToSDK).
//
// SigningKeys is set when Signature is exactly what a Signer with those keys
// returns for MsgID, Timestamp and Payload; this package checks those.
// VerifyKeys, HeaderPrefix ("webhook-" or "svix-"), Now (the receiver's
// clock, Unix seconds), ToleranceSeconds, Valid and Error (a name for one of
// verify's sentinel errors) are the receiver's side, which sdk/verify checks.
type vector struct {
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	SigningKeys      []string `json:"signing_keys"`
	VerifyKeys       []string `json:"verify_keys"`
	HeaderPrefix     string   `json:"header_prefix"`
	MsgID            string   `json:"msg_id"`
	Timestamp        string   `json:"timestamp"`
	Payload          string   `json:"payload"`
	Signature        string   `json:"signature"`
	Now              int64    `json:"now"`
	ToleranceSeconds int64    `json:"tolerance_seconds"`
	Valid            bool     `json:"valid"`
	Error            string   `json:"error"`
}

const vectorsFile = "testdata/vectors.json"

func readVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var vs []vector
	require.NoError(t, dec.Decode(&vs), "decode %s", vectorsFile)
	require.True(t, len(vs) > 0, "%s holds no vectors", vectorsFile)
	return vs
}

func TestSigner_Sign_vectors(t *testing.T) {
	signed := 0
	for _, v := range readVectors(t) {
		if len(v.SigningKeys) == 0 {
			continue
		}
		signed++
		t.Run(v.Name, func(t *testing.T) {
			keys := make([]Key, len(v.SigningKeys))
			for i, k := range v.SigningKeys {
				keys[i] = Key(k)
			}
			s, err := NewSigner(keys...)
			require.NoError(t, err)
			sec, err := strconv.ParseInt(v.Timestamp, 10, 64)
			require.NoError(t, err)
			require.Equal(t, v.Signature, s.Sign(v.MsgID, time.Unix(sec, 0), []byte(v.Payload)))
		})
	}
	require.True(t, signed >= 10, "only %d vectors have signing keys", signed)
}

// TestSigner_Sign_reference pins the two published vectors in code as well,
// so that an edit of the vectors file cannot change them unnoticed.
func TestSigner_Sign_reference(t *testing.T) {
	tests := []struct {
		name string
		keys []Key
		want string
	}{
		{"v1", []Key{refSecret}, refV1},
		{"v1a", []Key{refKey}, refV1a},
		{"v1 then v1a", []Key{refSecret, refKey}, refV1 + " " + refV1a},
		{"v1a then v1", []Key{refKey, refSecret}, refV1a + " " + refV1},
		{"unpadded whsk_", []Key{Key(strings.TrimRight(refKey, "="))}, refV1a},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.keys...)
			require.NoError(t, err)
			got := s.Sign(refMsgID, time.Unix(refTimestamp, 0), []byte(refBody))
			require.Equal(t, tc.want, got)
			require.Equal(t, len(got), s.size, "precomputed header length")
		})
	}
}

// TestVectors_identicalToSDK keeps the SDK's copy of the vectors in step:
// sdk/verify may import nothing from the gateway, so it reads its own copy.
func TestVectors_identicalToSDK(t *testing.T) {
	ours, err := os.ReadFile(vectorsFile)
	require.NoError(t, err)
	sdk, err := os.ReadFile("../../../sdk/verify/testdata/vectors.json")
	require.NoError(t, err)
	require.True(t, bytes.Equal(ours, sdk),
		"gateway/internal/delivery/%s and sdk/verify/testdata/vectors.json differ; copy one over the other", vectorsFile)
}

// deliver sends body with the signing headers to an httptest server and
// returns the headers and body as the receiving net/http server saw them:
// that canonicalises the header names, which the reference library needs
// (it looks them up with Header.Get).
func deliver(t *testing.T, msgID string, ts time.Time, signature string, body []byte) (http.Header, []byte) {
	t.Helper()
	type received struct {
		h    http.Header
		body []byte
	}
	got := make(chan received, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- received{r.Header.Clone(), b}
	}))
	defer srv.Close()

	req, err := http.NewRequest(http.MethodPost, srv.URL, bytes.NewReader(body))
	require.NoError(t, err)
	SetHeaders(req.Header, msgID, ts, signature)
	resp, err := srv.Client().Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	r := require.Receive(t, got, "the delivered request")
	return r.h, r.body
}

// TestSigner_Sign_standardWebhooks checks signatures with the independent
// reference library (v1 only; it skips v1a entries), including a rotation
// overlap where the library must accept with either secret.
func TestSigner_Sign_standardWebhooks(t *testing.T) {
	oldSecret, newSecret := webhook.NewSecret(), webhook.NewSecret()
	asym, _ := NewAsymmetricKey()
	tests := []struct {
		name    string
		keys    []Key
		accepts []string // secrets the library must accept with
		rejects []string
	}{
		{"one secret", []Key{Key(newSecret)}, []string{newSecret}, []string{oldSecret}},
		{"rotation overlap", []Key{Key(oldSecret), Key(newSecret)}, []string{oldSecret, newSecret}, []string{refSecret}},
		{"v1a entry skipped", []Key{Key(asym), Key(newSecret)}, []string{newSecret}, []string{oldSecret}},
		{"reference secret", []Key{refSecret}, []string{refSecret}, []string{newSecret}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.keys...)
			require.NoError(t, err)
			body := []byte(`{"type":"order.created","data":{"id":"ord_1","note":"a.b.c"}}`)
			now := time.Now() // the library allows 5 minutes of skew only
			h, got := deliver(t, "evt_"+tc.name, now, s.Sign("evt_"+tc.name, now, body), body)
			require.True(t, bytes.Equal(body, got), "body changed in transit")
			for _, secret := range tc.accepts {
				wh, err := standardwebhooks.NewWebhook(secret)
				require.NoError(t, err)
				require.NoError(t, wh.Verify(got, h), "library with secret %s", webhook.SecretHint(secret))
			}
			for _, secret := range tc.rejects {
				wh, err := standardwebhooks.NewWebhook(secret)
				require.NoError(t, err)
				require.ErrorIs(t, wh.Verify(got, h), standardwebhooks.ErrNoMatchingSignature)
			}
		})
	}
}

// TestSigner_Sign_ed25519 checks v1a entries with crypto/ed25519 directly
// (no reference library implements v1a) and round-trips every scheme through
// the receiver SDK.
func TestSigner_Sign_ed25519(t *testing.T) {
	secret, public := NewAsymmetricKey()
	derived, err := PublicKey(secret)
	require.NoError(t, err)
	require.Equal(t, public, derived)
	pub, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(public, PublicKeyPrefix))
	require.NoError(t, err)
	hmacSecret := webhook.NewSecret()

	s, err := NewSigner(Key(hmacSecret), Key(secret))
	require.NoError(t, err)
	body := []byte(`{"n":1}`)
	now := time.Now()
	header := s.Sign("msg_1", now, body)
	entries := strings.Split(header, " ")
	require.Equal(t, 2, len(entries))
	sig, ok := strings.CutPrefix(entries[1], "v1a,")
	require.True(t, ok, "second entry %q is not v1a", entries[1])
	raw, err := base64.StdEncoding.DecodeString(sig)
	require.NoError(t, err)
	content := "msg_1." + strconv.FormatInt(now.Unix(), 10) + "." + string(body)
	require.True(t, ed25519.Verify(pub, []byte(content), raw), "ed25519.Verify rejected the v1a entry")

	h, got := deliver(t, "msg_1", now, header, body)
	for _, key := range []string{hmacSecret, public} {
		v, err := verify.New(key)
		require.NoError(t, err)
		require.NoError(t, v.Verify(h, got), "sdk/verify with a %s key", key[:5])
	}
}

func TestNewSigner_errors(t *testing.T) {
	seed := make([]byte, ed25519.SeedSize)
	mismatched := append(bytes.Clone(seed), make([]byte, 32)...) // public half all zero
	tests := []struct {
		name string
		keys []Key
		want string
	}{
		{"no keys", nil, "delivery: no signing keys"},
		{"no prefix", []Key{"MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}, `delivery: invalid signing key 0: must start with "whsec_" or "whsk_"`},
		{"public key", []Key{refPublicKey}, `delivery: invalid signing key 0: must start with "whsec_" or "whsk_"`},
		{"second key bad", []Key{refSecret, "whsec_!!"}, `delivery: invalid signing key 1: must be "whsec_" followed by base64`},
		{"short secret", []Key{Key(webhook.SecretPrefix + b64(23))}, "delivery: invalid signing key 0: must decode to 24 to 64 bytes, got 23"},
		{"long secret", []Key{Key(webhook.SecretPrefix + b64(65))}, "delivery: invalid signing key 0: must decode to 24 to 64 bytes, got 65"},
		{"whsk_ not base64", []Key{"whsk_***"}, `delivery: invalid signing key 0: must be "whsk_" followed by base64`},
		{"whsk_ seed only", []Key{Key(SecretKeyPrefix + b64(32))}, `delivery: invalid signing key 0: "whsk_" key must decode to 64 bytes (seed and public key), got 32`},
		{"whsk_ halves differ", []Key{Key(SecretKeyPrefix + base64.StdEncoding.EncodeToString(mismatched))}, `delivery: invalid signing key 0: "whsk_" key's public half does not match its seed`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, err := NewSigner(tc.keys...)
			require.True(t, s == nil, "want no signer")
			require.Error(t, err)
			require.Equal(t, tc.want, err.Error())
			if len(tc.keys) > 0 {
				require.ErrorIs(t, err, ErrInvalidSigningKey)
			} else {
				require.ErrorIs(t, err, ErrNoSigningKeys)
			}
		})
	}
}

// b64 returns the padded base64 of n bytes.
func b64(n int) string {
	return base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, n))
}

func TestValidateSigningKey(t *testing.T) {
	secret, public := NewAsymmetricKey()
	tests := []struct {
		key string
		ok  bool
	}{
		{refSecret, true},
		{refKey, true},
		{secret, true},
		{webhook.NewSecret(), true},
		{strings.TrimRight(webhook.NewSecret(), "="), true},
		{webhook.SecretPrefix + b64(24), true},
		{webhook.SecretPrefix + b64(64), true},
		{webhook.SecretPrefix + b64(23), false},
		{webhook.SecretPrefix + b64(65), false},
		{SecretKeyPrefix + b64(64), false}, // halves do not match
		{SecretKeyPrefix + b64(63), false},
		{public, false},
		{"", false},
		{"whsec_", false},
		{"whsk_", false},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			err := ValidateSigningKey(tc.key)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, ErrInvalidSigningKey)
			if len(tc.key) > len(SecretKeyPrefix)+1 { // a bare prefix may well appear
				require.False(t, strings.Contains(err.Error(), tc.key), "error %q repeats the key", err)
			}
		})
	}
}

func TestPublicKey(t *testing.T) {
	got, err := PublicKey(refKey)
	require.NoError(t, err)
	require.Equal(t, refPublicKey, got)

	for _, bad := range []string{refSecret, refPublicKey, "whsk_", SecretKeyPrefix + b64(64)} {
		_, err := PublicKey(bad)
		require.ErrorIs(t, err, ErrInvalidSigningKey, "PublicKey(%q)", bad)
	}
}

func TestNewAsymmetricKey(t *testing.T) {
	s1, p1 := NewAsymmetricKey()
	s2, p2 := NewAsymmetricKey()
	require.True(t, s1 != s2 && p1 != p2, "two calls returned the same key")
	require.True(t, strings.HasPrefix(s1, SecretKeyPrefix), "secret %q lacks its prefix", s1[:5])
	require.True(t, strings.HasPrefix(p1, PublicKeyPrefix), "public key %q lacks its prefix", p1)
	require.NoError(t, ValidateSigningKey(s1))
	require.Equal(t, len(SecretKeyPrefix)+88, len(s1))
	require.Equal(t, len(PublicKeyPrefix)+44, len(p1))
}

func TestSetHeaders(t *testing.T) {
	h := http.Header{}
	h.Set("Webhook-Id", "stale") // canonical duplicate, must go
	h.Set("Content-Type", "application/json")
	SetHeaders(h, refMsgID, time.Unix(refTimestamp, 0), refV1)

	require.Equal(t, refMsgID, h[HeaderID][0])
	require.Equal(t, "1614265330", h[HeaderTimestamp][0])
	require.Equal(t, refV1, h[HeaderSignature][0])
	require.Equal(t, 4, len(h), "header count")
	for _, name := range []string{HeaderID, HeaderTimestamp, HeaderSignature} {
		require.Equal(t, 1, len(h[name]), "values of %s", name)
		require.True(t, textproto.CanonicalMIMEHeaderKey(name) != name, "%s is canonical already", name)
	}

	// On the wire, the names keep the spec's lower-case spelling.
	req, err := http.NewRequest(http.MethodPost, "http://receiver.example/hook", strings.NewReader(refBody))
	require.NoError(t, err)
	req.Header = h
	var wire bytes.Buffer
	require.NoError(t, req.Write(&wire))
	for _, line := range []string{
		"webhook-id: " + refMsgID + "\r\n",
		"webhook-timestamp: 1614265330\r\n",
		"webhook-signature: " + refV1 + "\r\n",
	} {
		require.Contains(t, wire.String(), line)
	}
	require.False(t, strings.Contains(wire.String(), "Webhook-Id"), "canonical Webhook-Id on the wire:\n%s", wire.String())

	// Writing again replaces the values rather than adding to them.
	SetHeaders(h, "msg_2", time.Unix(refTimestamp+1, 0), refV1a)
	require.Equal(t, "msg_2", h[HeaderID][0])
	require.Equal(t, 1, len(h[HeaderSignature]))
}

// TestSigner_Sign_concurrent hammers one Signer from many goroutines; with
// -race it proves that the pooled HMAC states and buffers are never shared
// by two calls in flight.
func TestSigner_Sign_concurrent(t *testing.T) {
	s, err := NewSigner(refSecret, refKey)
	require.NoError(t, err)
	want := refV1 + " " + refV1a
	big := bytes.Repeat([]byte("x"), 2*maxPooledContent) // takes the unpooled path
	bigWant := s.Sign(refMsgID, time.Unix(refTimestamp, 0), big)

	const goroutines, rounds = 16, 200
	var wg sync.WaitGroup
	errs := make(chan string, goroutines)
	for g := range goroutines {
		wg.Go(func() {
			for i := range rounds {
				body, exp := []byte(refBody), want
				if (g+i)%17 == 0 {
					body, exp = big, bigWant
				}
				if got := s.Sign(refMsgID, time.Unix(refTimestamp, 0), body); got != exp {
					errs <- fmt.Sprintf("goroutine %d round %d: got %q", g, i, got)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestSignatureLengths(t *testing.T) {
	require.Equal(t, base64.StdEncoding.EncodedLen(32), macB64Len)
	require.Equal(t, base64.StdEncoding.EncodedLen(ed25519.SignatureSize), sigB64Len)
}

// FuzzValidateSigningKey: the key decoder never panics, and every key it
// accepts builds a Signer whose output has one entry of the right scheme.
func FuzzValidateSigningKey(f *testing.F) {
	for _, s := range []string{refSecret, refKey, refPublicKey, "whsec_", "whsk_", "whsk_" + b64(64), "whsec_" + b64(24) + "==="} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, key string) {
		if ValidateSigningKey(key) != nil {
			return
		}
		s, err := NewSigner(Key(key))
		require.NoError(t, err, "valid key refused by NewSigner")
		got := s.Sign("msg", time.Unix(1, 0), nil)
		wantPrefix := "v1,"
		if strings.HasPrefix(key, SecretKeyPrefix) {
			wantPrefix = "v1a,"
		}
		require.True(t, strings.HasPrefix(got, wantPrefix), "signature %q for key scheme %s", got, wantPrefix)
		require.Equal(t, s.size, len(got))
	})
}

func BenchmarkSigner_Sign(b *testing.B) {
	body := bytes.Repeat([]byte(`{"k":"v"}`), 1<<10/9) // about 1 KiB
	for _, bc := range []struct {
		name string
		keys []Key
	}{
		{"v1", []Key{refSecret}},
		{"v1a", []Key{refKey}},
		{"v1_rotation", []Key{refSecret, Key(webhook.NewSecret())}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			s, err := NewSigner(bc.keys...)
			require.NoError(b, err)
			ts := time.Unix(refTimestamp, 0)
			b.SetBytes(int64(len(body)))
			b.ReportAllocs()
			for b.Loop() {
				_ = s.Sign(refMsgID, ts, body)
			}
		})
	}
}

func ExampleSigner_Sign() {
	s, err := NewSigner("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
	if err != nil {
		panic(err)
	}
	ts := time.Unix(1614265330, 0)
	sig := s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", ts, []byte(`{"test": 2432232314}`))

	h := http.Header{}
	SetHeaders(h, "msg_p5jXN8AQM9LWM0D4loKWxJek", ts, sig)
	fmt.Println(h["webhook-signature"][0])
	// Output: v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExampleNewSigner_rotation() {
	// During a rotation's overlap, sign with the old and the new secret;
	// receivers on either one accept.
	s, err := NewSigner(
		"whsec_3QNdLOfDK2VS6iygJfDlC2sg3eQHwY5e2TVL4Fd+1Lk=", // old
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",             // new
	)
	if err != nil {
		panic(err)
	}
	for _, entry := range strings.Fields(s.Sign("msg_p5jXN8AQM9LWM0D4loKWxJek", time.Unix(1614265330, 0), []byte(`{"test": 2432232314}`))) {
		fmt.Println(entry)
	}
	// Output:
	// v1,Mzy8wbnbvygCN1iOLoW4K1HUNv+3xmjCLm9ZiZuMXuE=
	// v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=
}

func ExamplePublicKey() {
	public, err := PublicKey("whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg==")
	if err != nil {
		panic(err)
	}
	fmt.Println(public)
	// Output: whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4=
}
