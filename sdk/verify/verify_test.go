package verify

import (
	"bytes"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
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
)

// The Standard Webhooks reference message and its two published signatures.
const (
	refSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	refPublicKey = "whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="
	refMsgID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	refTimestamp = 1614265330
	refBody      = `{"test": 2432232314}`
	refV1        = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	refV1a       = "v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg=="
)

// vector is one entry of testdata/vectors.json, a byte-for-byte copy of the
// gateway's signing vectors (the gateway's tests check that the copies
// match). Each names the keys a receiver holds (VerifyKeys), the headers it
// receives (HeaderPrefix + id, timestamp, signature; an empty value means the
// header is absent), its clock (Now, Unix seconds) and tolerance, and the
// outcome: Valid, or the sentinel error named by Error. SigningKeys is the
// sender's side; the gateway checks it.
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

// vectorErrors maps the vectors' error names to the sentinels.
func vectorErrors() map[string]error {
	return map[string]error{
		"missing_headers":       ErrMissingHeaders,
		"invalid_timestamp":     ErrInvalidTimestamp,
		"timestamp_too_old":     ErrTimestampTooOld,
		"timestamp_too_new":     ErrTimestampTooNew,
		"no_matching_signature": ErrNoMatchingSignature,
	}
}

func readVectors(t *testing.T) []vector {
	t.Helper()
	data, err := os.ReadFile("testdata/vectors.json")
	requireNoError(t, err)
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var vs []vector
	requireNoError(t, dec.Decode(&vs))
	if len(vs) == 0 {
		t.Fatal("testdata/vectors.json holds no vectors")
	}
	return vs
}

// headers returns the vector's headers with the given name spelling: the
// canonical form a net/http server produces, or the spec's lower case.
func (v vector) headers(canonical bool) http.Header {
	h := http.Header{}
	for name, value := range map[string]string{"id": v.MsgID, "timestamp": v.Timestamp, "signature": v.Signature} {
		if value == "" {
			continue
		}
		key := v.HeaderPrefix + name
		if canonical {
			key = textproto.CanonicalMIMEHeaderKey(key)
		}
		h[key] = []string{value}
	}
	return h
}

func TestVerifier_Verify_vectors(t *testing.T) {
	errs := vectorErrors()
	for _, v := range readVectors(t) {
		t.Run(v.Name, func(t *testing.T) {
			verifier, err := NewWithOptions(v.VerifyKeys,
				WithNow(fixedClock(v.Now)),
				WithTolerance(time.Duration(v.ToleranceSeconds)*time.Second))
			requireNoError(t, err)
			want := errs[v.Error]
			if v.Valid != (v.Error == "") || (!v.Valid && want == nil) {
				t.Fatalf("vector has valid=%v and error %q", v.Valid, v.Error)
			}
			for _, canonical := range []bool{true, false} {
				err := verifier.Verify(v.headers(canonical), []byte(v.Payload))
				if v.Valid {
					requireNoError(t, err)
				} else {
					requireErrorIs(t, err, want)
				}
			}
		})
	}
}

func fixedClock(unix int64) func() time.Time {
	return func() time.Time { return time.Unix(unix, 0) }
}

// refHeaders returns canonical headers carrying the reference message.
func refHeaders(signature string) http.Header {
	h := http.Header{}
	h.Set(HeaderID, refMsgID)
	h.Set(HeaderTimestamp, strconv.Itoa(refTimestamp))
	h.Set(HeaderSignature, signature)
	return h
}

func refVerifier(t *testing.T, keys ...string) *Verifier {
	t.Helper()
	v, err := NewWithOptions(keys, WithNow(fixedClock(refTimestamp)))
	requireNoError(t, err)
	return v
}

func TestVerifier_Verify(t *testing.T) {
	refV1Value := strings.TrimPrefix(refV1, "v1,")
	tests := []struct {
		name    string
		keys    []string
		headers http.Header
		body    string
		want    error
	}{
		{"v1", []string{refSecret}, refHeaders(refV1), refBody, nil},
		{"v1a", []string{refPublicKey}, refHeaders(refV1a), refBody, nil},
		{"secret and public key, v1a only", []string{refSecret, refPublicKey}, refHeaders(refV1a), refBody, nil},
		{"surrounding spaces in key", []string{" " + refSecret + "\n"}, refHeaders(refV1), refBody, nil},
		{"extra spaces between entries", []string{refSecret}, refHeaders("v2,x   " + refV1 + " "), refBody, nil},
		{"second header value", []string{refSecret}, func() http.Header {
			h := refHeaders("v1,bm9wZQ==")
			h.Add(HeaderSignature, refV1)
			return h
		}(), refBody, nil},
		{"unpadded v1 value", []string{refSecret}, refHeaders("v1," + strings.TrimRight(refV1Value, "=")), refBody, ErrNoMatchingSignature},
		{"v1 value as v1a", []string{refPublicKey}, refHeaders("v1a," + refV1Value), refBody, ErrNoMatchingSignature},
		{"empty entry value", []string{refSecret}, refHeaders("v1,"), refBody, ErrNoMatchingSignature},
		{"comma only", []string{refSecret}, refHeaders(","), refBody, ErrNoMatchingSignature},
		{"v1 invalid base64", []string{refSecret}, refHeaders("v1," + strings.Repeat("!", 44)), refBody, ErrNoMatchingSignature},
		{"v1a invalid base64", []string{refPublicKey}, refHeaders("v1a," + strings.Repeat("!", 88)), refBody, ErrNoMatchingSignature},
		{"empty body", []string{refSecret}, refHeaders(refV1), "", ErrNoMatchingSignature},
		{"no headers", []string{refSecret}, http.Header{}, refBody, ErrMissingHeaders},
		{"empty id", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderID, "")
			return h
		}(), refBody, ErrMissingHeaders},
		{"svix id with webhook signature", []string{refSecret}, http.Header{
			"Svix-Id":           {refMsgID},
			"Webhook-Timestamp": {strconv.Itoa(refTimestamp)},
			"Webhook-Signature": {refV1},
		}, refBody, ErrMissingHeaders},
		{"timestamp in milliseconds", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderTimestamp, strconv.Itoa(refTimestamp*1000))
			return h
		}(), refBody, ErrTimestampTooNew},
		{"timestamp too long", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderTimestamp, strings.Repeat("9", 19))
			return h
		}(), refBody, ErrInvalidTimestamp},
		{"negative timestamp", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderTimestamp, "-1")
			return h
		}(), refBody, ErrInvalidTimestamp},
		{"zero timestamp", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderTimestamp, "0")
			return h
		}(), refBody, ErrTimestampTooOld},
		{"leading zero is signed as sent", []string{refSecret}, func() http.Header {
			h := refHeaders(refV1)
			h.Set(HeaderTimestamp, "0"+strconv.Itoa(refTimestamp))
			return h
		}(), refBody, ErrNoMatchingSignature},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := refVerifier(t, tc.keys...).Verify(tc.headers, []byte(tc.body))
			if tc.want == nil {
				requireNoError(t, err)
			} else {
				requireErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestVerifier_Verify_tolerance(t *testing.T) {
	tests := []struct {
		name      string
		tolerance time.Duration
		skew      int64 // receiver clock minus timestamp, seconds
		want      error
	}{
		{"default, on time", DefaultTolerance, 0, nil},
		{"default, 5m late", DefaultTolerance, 300, nil},
		{"default, 5m1s late", DefaultTolerance, 301, ErrTimestampTooOld},
		{"default, 5m early", DefaultTolerance, -300, nil},
		{"default, 5m1s early", DefaultTolerance, -301, ErrTimestampTooNew},
		{"zero, on time", 0, 0, nil},
		{"zero, 1s late", 0, 1, ErrTimestampTooOld},
		{"zero, 1s early", 0, -1, ErrTimestampTooNew},
		{"one hour, 59m late", time.Hour, 59 * 60, nil},
		{"one day ago", DefaultTolerance, 86400, ErrTimestampTooOld},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewWithOptions([]string{refSecret}, WithTolerance(tc.tolerance), WithNow(fixedClock(refTimestamp+tc.skew)))
			requireNoError(t, err)
			err = v.Verify(refHeaders(refV1), []byte(refBody))
			if tc.want == nil {
				requireNoError(t, err)
			} else {
				requireErrorIs(t, err, tc.want)
			}
		})
	}
}

func TestVerifier_Verify_realClock(t *testing.T) {
	// New uses time.Now: the reference message is years old.
	v, err := New(refSecret)
	requireNoError(t, err)
	requireErrorIs(t, v.Verify(refHeaders(refV1), []byte(refBody)), ErrTimestampTooOld)

	now := time.Now()
	ts := strconv.FormatInt(now.Unix(), 10)
	h := http.Header{}
	h.Set(HeaderID, "msg_now")
	h.Set(HeaderTimestamp, ts)
	h.Set(HeaderSignature, signV1(t, refSecret, "msg_now", ts, refBody))
	requireNoError(t, v.Verify(h, []byte(refBody)))
}

// signV1 computes a v1 entry directly, independent of the code under test.
func signV1(t *testing.T, secret, id, ts, body string) string {
	t.Helper()
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, SecretPrefix))
	requireNoError(t, err)
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "." + body))
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

func TestNew_keys(t *testing.T) {
	// A 32-byte secret: its base64 ends in one pad character.
	padded := "whsec_3QNdLOfDK2VS6iygJfDlC2sg3eQHwY5e2TVL4Fd+1Lk="
	tests := []struct {
		name string
		keys []string
		want string // error text; empty for success
	}{
		{"secret", []string{refSecret}, ""},
		{"secret without prefix", []string{strings.TrimPrefix(refSecret, SecretPrefix)}, ""},
		{"padded secret", []string{padded}, ""},
		{"unpadded secret", []string{strings.TrimRight(padded, "=")}, ""},
		{"public key", []string{refPublicKey}, ""},
		{"unpadded public key", []string{strings.TrimRight(refPublicKey, "=")}, ""},
		{"rotation", []string{padded, refSecret, refPublicKey}, ""},
		{"no keys", nil, "verify: no keys"},
		{"empty secret", []string{""}, "verify: key 0: secret is empty"},
		{"bare prefix", []string{SecretPrefix}, "verify: key 0: secret is empty"},
		{"not base64", []string{refSecret, "whsec_%%%"}, `verify: key 1: must be "whsec_" followed by base64`},
		{"short public key", []string{"whpk_AAAA"}, `verify: key 0: "whpk_" key must be the base64 of 32 bytes`},
		{"private key", []string{"whsk_6Xb/dCcHpPea21PS1N9VY/NZW723CEc77N4rJCubMbfVKIDij2HKpMKkioLlX0dRqSKJp4AJ6p9lMicMFs6Kvg=="},
			`verify: key 0: a "whsk_" key is the sender's private key; verify with its "whpk_" public key`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := New(tc.keys...)
			if tc.want == "" {
				requireNoError(t, err)
				return
			}
			if err == nil || err.Error() != tc.want {
				t.Fatalf("want error %q, got %v", tc.want, err)
			}
			if v != nil {
				t.Fatal("want a nil Verifier with the error")
			}
		})
	}
}

func TestNewWithOptions_errors(t *testing.T) {
	tests := []struct {
		name string
		opt  Option
		want string
	}{
		{"negative tolerance", WithTolerance(-time.Second), "verify: tolerance must not be negative, got -1s"},
		{"nil clock", WithNow(nil), "verify: now must not be nil"},
		{"zero body limit", WithMaxBodyBytes(0), "verify: max body bytes must be positive, got 0"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewWithOptions([]string{refSecret}, tc.opt)
			if err == nil || err.Error() != tc.want {
				t.Fatalf("want error %q, got %v", tc.want, err)
			}
		})
	}
}

func TestVerifier_VerifyRequest(t *testing.T) {
	tests := []struct {
		name    string
		limit   int64
		headers http.Header
		body    io.Reader
		length  int64 // Content-Length; -1 for unknown
		want    error
	}{
		{"valid", 1 << 10, refHeaders(refV1), strings.NewReader(refBody), int64(len(refBody)), nil},
		{"body at the limit", int64(len(refBody)), refHeaders(refV1), strings.NewReader(refBody), -1, nil},
		{"body over the limit, length unknown", int64(len(refBody)) - 1, refHeaders(refV1), strings.NewReader(refBody), -1, ErrBodyTooLarge},
		{"declared length over the limit", 10, refHeaders(refV1), strings.NewReader(refBody), int64(len(refBody)), ErrBodyTooLarge},
		{"bad signature", 1 << 10, refHeaders(refV1a), strings.NewReader(refBody), -1, ErrNoMatchingSignature},
		{"headers checked before the body", 1 << 10, http.Header{}, failingReader{}, -1, ErrMissingHeaders},
		{"read error", 1 << 10, refHeaders(refV1), failingReader{}, -1, errRead},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, err := NewWithOptions([]string{refSecret}, WithNow(fixedClock(refTimestamp)), WithMaxBodyBytes(tc.limit))
			requireNoError(t, err)
			r := httptest.NewRequest(http.MethodPost, "/webhooks", tc.body)
			r.Header = tc.headers
			r.ContentLength = tc.length
			body, err := v.VerifyRequest(r)
			if tc.want != nil {
				requireErrorIs(t, err, tc.want)
				if body != nil {
					t.Fatalf("got a body %q with the error", body)
				}
				return
			}
			requireNoError(t, err)
			if string(body) != refBody {
				t.Fatalf("body: want %q, got %q", refBody, body)
			}
		})
	}
}

var errRead = errors.New("read failed")

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errRead }

// TestVerifier_VerifyRequest_server verifies over a real HTTP round trip, as
// a receiver does.
func TestVerifier_VerifyRequest_server(t *testing.T) {
	v := refVerifier(t, refSecret, refPublicKey)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := v.VerifyRequest(r); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
		}
	}))
	defer srv.Close()
	for sig, want := range map[string]int{refV1: 200, refV1a: 200, refV1 + " " + refV1a: 200, "v1,AAAA": 401} {
		req, err := http.NewRequest(http.MethodPost, srv.URL, strings.NewReader(refBody))
		requireNoError(t, err)
		// Lower-case names, as the gateway sends them.
		req.Header["webhook-id"] = []string{refMsgID}
		req.Header["webhook-timestamp"] = []string{strconv.Itoa(refTimestamp)}
		req.Header["webhook-signature"] = []string{sig}
		resp, err := srv.Client().Do(req)
		requireNoError(t, err)
		resp.Body.Close()
		if resp.StatusCode != want {
			t.Errorf("signature %.20q: want status %d, got %d", sig, want, resp.StatusCode)
		}
	}
}

// TestVerifier_Verify_concurrent: one Verifier serves many handlers at once.
func TestVerifier_Verify_concurrent(t *testing.T) {
	v := refVerifier(t, refSecret, refPublicKey)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for range 50 {
				sig := refV1
				if g%2 == 1 {
					sig = refV1a
				}
				if err := v.Verify(refHeaders(sig), []byte(refBody)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestHeaderNames(t *testing.T) {
	for lower, canonical := range map[string]string{
		HeaderID: "Webhook-Id", HeaderTimestamp: "Webhook-Timestamp", HeaderSignature: "Webhook-Signature",
		"svix-id": "Svix-Id", "svix-timestamp": "Svix-Timestamp", "svix-signature": "Svix-Signature",
	} {
		if got := textproto.CanonicalMIMEHeaderKey(lower); got != canonical {
			t.Errorf("canonical form of %s: want %s, got %s", lower, canonical, got)
		}
	}
	if got := base64.StdEncoding.EncodedLen(sha256.Size); got != macB64Len {
		t.Errorf("macB64Len: want %d", got)
	}
	if got := base64.StdEncoding.EncodedLen(ed25519.SignatureSize); got != sigB64Len {
		t.Errorf("sigB64Len: want %d", got)
	}
}

// FuzzVerify feeds arbitrary headers and bodies to Verify. It must never
// panic; it must return nil or one of its sentinel errors; and a message it
// accepts must stop verifying once its body changes.
func FuzzVerify(f *testing.F) {
	f.Add(refMsgID, strconv.Itoa(refTimestamp), refV1, []byte(refBody), false)
	f.Add(refMsgID, strconv.Itoa(refTimestamp), refV1a, []byte(refBody), true)
	f.Add(refMsgID, strconv.Itoa(refTimestamp), "v2,x "+refV1+" "+refV1a, []byte(refBody), false)
	f.Add("", "", "", []byte(nil), false)
	f.Add("a.b", "1614265331", "v1,", []byte("{}"), true)
	f.Add(refMsgID, "99999999999999999999", "v1a,=", []byte{0xff}, false)
	v, err := NewWithOptions([]string{refSecret, refPublicKey}, WithNow(fixedClock(refTimestamp)))
	requireNoError(f, err)
	sentinels := []error{ErrMissingHeaders, ErrInvalidTimestamp, ErrTimestampTooOld, ErrTimestampTooNew, ErrNoMatchingSignature}

	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte, svix bool) {
		h := http.Header{}
		prefix := "Webhook-"
		if svix {
			prefix = "Svix-"
		}
		h[prefix+"Id"] = []string{id}
		h[prefix+"Timestamp"] = []string{ts}
		h[prefix+"Signature"] = []string{sig}
		err := v.Verify(h, body)
		if err == nil {
			tampered := append(bytes.Clone(body), '!')
			if v.Verify(h, tampered) == nil {
				t.Fatalf("accepted a changed body: id %q ts %q sig %q", id, ts, sig)
			}
			return
		}
		for _, s := range sentinels {
			if errors.Is(err, s) {
				return
			}
		}
		t.Fatalf("error %v is none of the sentinels", err)
	})
}

func BenchmarkVerifier_Verify(b *testing.B) {
	v, err := NewWithOptions([]string{refSecret, refPublicKey}, WithNow(fixedClock(refTimestamp)))
	requireNoError(b, err)
	for name, sig := range map[string]string{"v1": refV1, "v1a": refV1a} {
		b.Run(name, func(b *testing.B) {
			h := refHeaders(sig)
			body := []byte(refBody)
			b.ReportAllocs()
			for b.Loop() {
				if err := v.Verify(h, body); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func requireNoError(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
}

func requireErrorIs(t testing.TB, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("want error %v, got %v", target, err)
	}
}

func TestFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		h    http.Header
		want []string
	}{
		{"absent", http.Header{}, nil},
		{"empty", http.Header{"Webhook-Flags": {""}}, nil},
		{"one", http.Header{"Webhook-Flags": {"large amount 20000"}}, []string{"large amount 20000"}},
		{
			"encoded commas, line breaks, percent and UTF-8",
			http.Header{"Webhook-Flags": {"velocity: 3%2C 4%0D%0Anext, Caf%C3%A9 100%25"}},
			[]string{"velocity: 3, 4\r\nnext", "Café 100%"},
		},
		{"lower-case name, as a sender sets it", http.Header{HeaderFlags: {"a,b"}}, []string{"a", "b"}},
		{"several header lines, blanks skipped", http.Header{"Webhook-Flags": {"a, ,b", " c\t"}}, []string{"a", "b", "c"}},
		{"not valid percent-encoding: as sent", http.Header{"Webhook-Flags": {"50%, 1%zz"}}, []string{"50%", "1%zz"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Flags(tc.h)
			if len(got) != len(tc.want) {
				t.Fatalf("want %q, got %q", tc.want, got)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Fatalf("want %q, got %q", tc.want, got)
				}
			}
		})
	}
}
