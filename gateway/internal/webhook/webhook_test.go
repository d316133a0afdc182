package webhook

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

// patternProblem is the message Validate gives for a pattern that
// event.ParsePattern refuses: the parse error itself.
func patternProblem(tb testing.TB, pattern string) string {
	tb.Helper()
	_, err := event.ParsePattern(pattern)
	require.Error(tb, err, "ParsePattern(%q)", pattern)
	return err.Error()
}

// patterns returns n valid, distinct patterns.
func patterns(n int) []string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("type%d.*", i)
	}
	return ps
}

// headers returns n valid, distinct headers.
func headers(n int) map[string]string {
	h := make(map[string]string, n)
	for i := range n {
		h[fmt.Sprintf("X-H%02d", i)] = "v"
	}
	return h
}

// secretOf returns the "whsec_" secret of n key bytes, padded or not.
func secretOf(n int, padded bool) string {
	key := make([]byte, n)
	for i := range key {
		key[i] = byte(i * 7)
	}
	if padded {
		return SecretPrefix + base64.StdEncoding.EncodeToString(key)
	}
	return SecretPrefix + base64.RawStdEncoding.EncodeToString(key)
}

// requireProblems checks that got is exactly want, in order, field and
// message alike.
func requireProblems(tb testing.TB, want []Problem, got Problems) {
	tb.Helper()
	same := len(want) == len(got)
	for i := 0; same && i < len(want); i++ {
		same = want[i] == got[i]
	}
	if !same {
		tb.Fatalf("problems differ\nwant:\n  %s\ngot:\n  %s", join(want), join(got))
	}
}

func join(ps []Problem) string {
	lines := make([]string, len(ps))
	for i, p := range ps {
		lines[i] = fmt.Sprintf("%q: %q", p.Field, p.Message)
	}
	return strings.Join(lines, "\n  ")
}

func TestProblem_String(t *testing.T) {
	require.Equal(t, "headers.Host: is reserved", Problem{Field: "headers.Host", Message: "is reserved"}.String())
}

func TestSpec_Validate(t *testing.T) {
	const (
		urlRequired   = "is required"
		typesRequired = `is required: give at least one pattern, e.g. "link.*" or ">"`
		typesEmpty    = `must list at least one pattern, e.g. "link.*" or ">"`
		badName       = "is not a valid HTTP header name"
		signing       = "webhook-* headers are reserved for Standard Webhooks signing"
		valueTooLong  = "value is longer than 4096 characters"
		valueCRLF     = "value must not contain CR, LF or NUL"
	)
	valid := Spec{URL: new("https://example.com/hooks"), EventTypes: new([]string{"link.*", "order.>"})}
	with := func(edit func(s *Spec)) Spec {
		s := valid
		edit(&s)
		return s
	}
	tests := []struct {
		name   string
		spec   Spec
		create bool // false: a patch
		want   []Problem
	}{
		{name: "create, url and event_types", spec: valid, create: true},
		{name: "create, every field", create: true, spec: Spec{
			URL:         new("http://10.0.0.1:8080/in?x=1"),
			EventTypes:  new([]string{">"}),
			Description: new(strings.Repeat("d", MaxDescriptionLen)),
			Secret:      new(NewSecret()),
			Headers:     new(map[string]string{"X-Team": "growth", "Authorization": "Bearer x"}),
			Enabled:     new(false),
		}},
		{name: "create, nothing given", spec: Spec{}, create: true, want: []Problem{
			{"url", urlRequired},
			{"event_types", typesRequired},
		}},
		{name: "create without url", spec: with(func(s *Spec) { s.URL = nil }), create: true, want: []Problem{
			{"url", urlRequired},
		}},
		{name: "create without event_types", spec: with(func(s *Spec) { s.EventTypes = nil }), create: true, want: []Problem{
			{"event_types", typesRequired},
		}},
		{name: "patch, nothing given", spec: Spec{}},
		{name: "patch, only enabled", spec: Spec{Enabled: new(false)}},
		{name: "patch, only description", spec: Spec{Description: new("")}},

		// url: the problem is ValidateURL's error.
		{name: "url scheme", spec: Spec{URL: new("ftp://example.com/")}, want: []Problem{
			{"url", `must be an absolute http or https URL, got scheme "ftp"`},
		}},
		{name: "empty url", spec: Spec{URL: new("")}, want: []Problem{
			{"url", "must be an absolute http or https URL, got an empty string"},
		}},

		// event_types.
		{name: "empty event_types", spec: Spec{EventTypes: new([]string{})}, want: []Problem{
			{"event_types", typesEmpty},
		}},
		{name: "empty event_types on create", spec: with(func(s *Spec) { s.EventTypes = new([]string{}) }), create: true, want: []Problem{
			{"event_types", typesEmpty},
		}},
		{name: "as many patterns as allowed", spec: Spec{EventTypes: new(patterns(MaxEventTypes))}},
		{name: "one pattern too many", spec: Spec{EventTypes: new(patterns(MaxEventTypes + 1))}, want: []Problem{
			{"event_types", "lists 101 patterns, more than the limit of 100"},
		}},
		{name: "bad patterns, by index", spec: Spec{EventTypes: new([]string{"a.b", "a..b", "", "link.>.x", "link.cl*"})}, want: []Problem{
			{"event_types[1]", patternProblem(t, "a..b")},
			{"event_types[2]", patternProblem(t, "")},
			{"event_types[3]", patternProblem(t, "link.>.x")},
			{"event_types[4]", patternProblem(t, "link.cl*")},
		}},
		{name: "too many and a bad one", spec: Spec{EventTypes: new(append(patterns(MaxEventTypes), "a..b"))}, want: []Problem{
			{"event_types", "lists 101 patterns, more than the limit of 100"},
			{"event_types[100]", patternProblem(t, "a..b")},
		}},

		// description.
		{name: "description at the limit", spec: Spec{Description: new(strings.Repeat("d", MaxDescriptionLen))}},
		{name: "description too long", spec: Spec{Description: new(strings.Repeat("d", MaxDescriptionLen+1))}, want: []Problem{
			{"description", "is longer than 1024 characters"},
		}},

		// secret: the problem is ValidateSecret's error.
		{name: "secret without prefix", spec: Spec{Secret: new("c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0")}, want: []Problem{
			{"secret", `must start with "whsec_"`},
		}},
		{name: "secret too short", spec: Spec{Secret: new(secretOf(3, true))}, want: []Problem{
			{"secret", "must decode to 24 to 64 bytes, got 3"},
		}},

		// headers.
		{name: "no headers", spec: Spec{Headers: new(map[string]string{})}},
		{name: "as many headers as allowed", spec: Spec{Headers: new(headers(MaxHeaders))}},
		{name: "one header too many", spec: Spec{Headers: new(headers(MaxHeaders + 1))}, want: []Problem{
			{"headers", "has 51 entries, more than the limit of 50"},
		}},
		{name: "token characters", spec: Spec{Headers: new(map[string]string{"X-a_1.~!#$%&'*+^`|": "v"})}},
		{name: "invalid names", spec: Spec{Headers: new(map[string]string{"": "v", "X Team": "v", "X-Team:": "v", "Ü": "v"})}, want: []Problem{
			{"headers.", badName},
			{"headers.X Team", badName},
			{"headers.X-Team:", badName},
			{"headers.Ü", badName},
		}},
		{name: "signing headers, any case", spec: Spec{Headers: new(map[string]string{"Webhook-Id": "x", "webhook-signature": "x", "WEBHOOK-TIMESTAMP": "x", "Webhook-Other": "x"})}, want: []Problem{
			{"headers.WEBHOOK-TIMESTAMP", signing},
			{"headers.Webhook-Id", signing},
			{"headers.Webhook-Other", signing},
			{"headers.webhook-signature", signing},
		}},
		{name: "reserved headers, any case", spec: Spec{Headers: new(map[string]string{
			"Content-Type": "x", "content-length": "1", "HOST": "x", "Transfer-Encoding": "x", "Connection": "x", "user-agent": "x",
		})}, want: []Problem{
			{"headers.Connection", "is reserved: it is a hop-by-hop header; the gateway's HTTP client manages the connection"},
			{"headers.Content-Type", "is reserved: it is set by the gateway (application/json)"},
			{"headers.HOST", "is reserved: it is taken from the webhook url"},
			{"headers.Transfer-Encoding", "is reserved: it is set by the gateway"},
			{"headers.content-length", "is reserved: it is set by the gateway"},
			{"headers.user-agent", "is reserved: it is set by the gateway"},
		}},
		{name: "value at the limit", spec: Spec{Headers: new(map[string]string{"X-A": strings.Repeat("v", MaxHeaderValueLen)})}},
		{name: "empty value", spec: Spec{Headers: new(map[string]string{"X-A": ""})}},
		{name: "value too long", spec: Spec{Headers: new(map[string]string{"X-A": strings.Repeat("v", MaxHeaderValueLen+1)})}, want: []Problem{
			{"headers.X-A", valueTooLong},
		}},
		{name: "CR, LF or NUL in values", spec: Spec{Headers: new(map[string]string{"X-A": "a\rb", "X-B": "a\nX-Evil: 1", "X-C": "\x00"})}, want: []Problem{
			{"headers.X-A", valueCRLF},
			{"headers.X-B", valueCRLF},
			{"headers.X-C", valueCRLF},
		}},
		{name: "every problem of one header", spec: Spec{Headers: new(map[string]string{"Host": strings.Repeat("v", MaxHeaderValueLen) + "\n"})}, want: []Problem{
			{"headers.Host", "is reserved: it is taken from the webhook url"},
			{"headers.Host", valueTooLong},
			{"headers.Host", valueCRLF},
		}},
		{name: "headers in byte order of their names", spec: Spec{Headers: new(map[string]string{"b": "\n", "A": "\n", "a": "\n"})}, want: []Problem{
			{"headers.A", valueCRLF},
			{"headers.a", valueCRLF},
			{"headers.b", valueCRLF},
		}},

		{name: "problems in field order", create: true, spec: Spec{
			URL:         new("https://user:pass@example.com/"),
			EventTypes:  new([]string{"a..b"}),
			Description: new(strings.Repeat("d", MaxDescriptionLen+1)),
			Secret:      new("whsec_!!!!"),
			Headers:     new(map[string]string{"Webhook-Id": "x"}),
		}, want: []Problem{
			{"url", "must not contain a user:password part; put credentials in headers instead"},
			{"event_types[0]", patternProblem(t, "a..b")},
			{"description", "is longer than 1024 characters"},
			{"secret", `must be "whsec_" followed by base64`},
			{"headers.Webhook-Id", signing},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			requireProblems(t, tc.want, tc.spec.Validate(tc.create))
		})
	}
}

func TestValidateURL(t *testing.T) {
	const want = "must be an absolute http or https URL"
	longest := "https://example.com/" + strings.Repeat("a", MaxURLLen-len("https://example.com/"))
	tests := []struct {
		url     string
		wantErr string // "" means valid
	}{
		{"https://example.com/hooks", ""},
		{"http://10.0.0.1:8080/in?x=1#frag", ""},
		{"https://[::1]:8443/x", ""},
		{"HTTPS://Example.COM/", ""},
		{"https://localhost", ""},
		{longest, ""},

		{"", want + ", got an empty string"},
		{longest + "a", "is longer than 2048 characters"},
		{"/hooks", want},
		{"//example.com/hooks", want},
		{"example.com/hooks", want},
		{"mailto:ops@example.com", want},
		{"https://example.com/%zz", want},
		{"https://exa mple.com/", want},
		{"ftp://example.com/", want + `, got scheme "ftp"`},
		{"ws://example.com/", want + `, got scheme "ws"`},
		{"file:///etc/passwd", want + `, got scheme "file"`},
		{"https:///hooks", want + " with a host"},
		{"http://:8080/", want + " with a host"},
		{"https://user:pass@example.com/", "must not contain a user:password part; put credentials in headers instead"},
		{"https://user@example.com/", "must not contain a user:password part; put credentials in headers instead"},
		{"https://@example.com/", "must not contain a user:password part; put credentials in headers instead"},
	}
	for _, tc := range tests {
		t.Run(tc.url, func(t *testing.T) {
			err := ValidateURL(tc.url)
			if tc.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.Equal(t, tc.wantErr, err.Error())
		})
	}
}

func TestValidateSecret(t *testing.T) {
	const (
		prefix = `must start with "whsec_"`
		b64    = `must be "whsec_" followed by base64`
	)
	urlSafe := SecretPrefix + base64.RawURLEncoding.EncodeToString([]byte(strings.Repeat("\xfb\xff", 16)))
	tests := []struct {
		name    string
		secret  string
		wantLen int    // decoded key length, when DecodeSecret succeeds
		wantErr string // ValidateSecret's error; "" means valid
	}{
		{"32 bytes, padded", secretOf(32, true), 32, ""},
		{"32 bytes, unpadded", secretOf(32, false), 32, ""},
		{"25 bytes, padded", secretOf(25, true), 25, ""},
		{"25 bytes, unpadded", secretOf(25, false), 25, ""},
		{"24 bytes: the minimum", secretOf(24, true), 24, ""},
		{"64 bytes: the maximum, padded", secretOf(64, true), 64, ""},
		{"64 bytes: the maximum, unpadded", secretOf(64, false), 64, ""},
		{"23 bytes", secretOf(23, true), 23, "must decode to 24 to 64 bytes, got 23"},
		{"23 bytes, unpadded", secretOf(23, false), 23, "must decode to 24 to 64 bytes, got 23"},
		{"65 bytes", secretOf(65, true), 65, "must decode to 24 to 64 bytes, got 65"},
		{"65 bytes, unpadded", secretOf(65, false), 65, "must decode to 24 to 64 bytes, got 65"},
		{"prefix only", SecretPrefix, 0, "must decode to 24 to 64 bytes, got 0"},

		{"empty", "", 0, prefix},
		{"no prefix", strings.TrimPrefix(secretOf(32, true), SecretPrefix), 0, prefix},
		{"upper-case prefix", "WHSEC_" + strings.TrimPrefix(secretOf(32, true), SecretPrefix), 0, prefix},
		{"prefix without underscore", "whsec" + strings.TrimPrefix(secretOf(32, true), SecretPrefix), 0, prefix},
		{"prefix not at the start", " " + secretOf(32, true), 0, prefix},
		{"not base64", "whsec_!!!!", 0, b64},
		{"URL-safe alphabet", urlSafe, 0, b64},
		{"inner blank", secretOf(16, false) + " " + strings.TrimPrefix(secretOf(16, false), SecretPrefix), 0, b64},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			key, derr := DecodeSecret(tc.secret)
			verr := ValidateSecret(tc.secret)
			if tc.wantErr == "" {
				require.NoError(t, derr, "DecodeSecret")
				require.NoError(t, verr, "ValidateSecret")
			} else {
				require.Error(t, verr, "ValidateSecret")
				require.Equal(t, tc.wantErr, verr.Error(), "ValidateSecret")
			}
			if tc.wantErr == prefix || tc.wantErr == b64 {
				// A format error comes from DecodeSecret itself.
				require.Error(t, derr, "DecodeSecret")
				require.Equal(t, tc.wantErr, derr.Error(), "DecodeSecret")
				require.True(t, key == nil, "DecodeSecret returned a key with its error: %x", key)
				return
			}
			// Otherwise the secret decodes, to the bytes it was made of.
			require.NoError(t, derr, "DecodeSecret")
			require.Equal(t, tc.wantLen, len(key), "key length")
			want := make([]byte, tc.wantLen)
			for i := range want {
				want[i] = byte(i * 7)
			}
			require.Equal(t, string(want), string(key), "key bytes")
		})
	}
}

func TestNewSecret(t *testing.T) {
	a, b := NewSecret(), NewSecret()
	for _, s := range []string{a, b} {
		require.True(t, strings.HasPrefix(s, SecretPrefix), "%q lacks the %q prefix", s, SecretPrefix)
		require.NoError(t, ValidateSecret(s), "ValidateSecret(%q)", s)
		key, err := DecodeSecret(s)
		require.NoError(t, err)
		require.Equal(t, 32, len(key), "key length")
		// Standard, padded base64, as the Standard Webhooks spec shows it.
		require.Equal(t, SecretPrefix+base64.StdEncoding.EncodeToString(key), s)
	}
	require.True(t, a != b, "two calls returned the same secret %q", a)
}

func TestSecretHint(t *testing.T) {
	secret := NewSecret()
	signingKey := NewAsymmetricSecret()
	publicKey := PublicKey(signingKey)
	tests := []struct {
		secret string
		want   string
	}{
		{secret, "whsec_…" + secret[len(secret)-4:]},
		// A private key is hinted by its public key.
		{signingKey, "whpk_…" + publicKey[len(publicKey)-4:]},
		{"whsk_broken", "whpk_…"},
		{"whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAwxyz", "whsec_…wxyz"},
		{"whsec_12345678", "whsec_…5678"}, // the shortest that shows a tail
		{"whsec_1234567", "whsec_…"},
		{"whsec_", "whsec_…"},
		{"", "whsec_…"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			require.Equal(t, tc.want, SecretHint(tc.secret))
		})
	}
}

func TestVerificationKey(t *testing.T) {
	secret := NewSecret()
	require.Equal(t, secret, VerificationKey(secret))
	signingKey := NewAsymmetricSecret()
	pk := VerificationKey(signingKey)
	require.True(t, strings.HasPrefix(pk, PublicKeyPrefix), "verification key %q", pk)
	require.Equal(t, PublicKey(signingKey), pk)
	require.Equal(t, "", VerificationKey("whsk_broken"))
}

func TestSpec_Apply(t *testing.T) {
	created := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	base := func() Webhook {
		return Webhook{
			ID: "wh_1", URL: "https://old.example/", EventTypes: []string{"old.*"}, Description: "old",
			Headers: map[string]string{"X-Old": "1"}, Enabled: true, Secret: "whsec_old",
			Managed: ManagedByConfig, ConfigEnabled: new(true), CreatedAt: created, UpdatedAt: created,
		}
	}
	tests := []struct {
		name string
		spec Spec
		want func(w *Webhook) // the changes to base that Apply must make
	}{
		{name: "nothing given changes nothing", spec: Spec{}, want: func(*Webhook) {}},
		{name: "url", spec: Spec{URL: new("https://new.example/")}, want: func(w *Webhook) { w.URL = "https://new.example/" }},
		{name: "event_types", spec: Spec{EventTypes: new([]string{"a", "b.>"})}, want: func(w *Webhook) { w.EventTypes = []string{"a", "b.>"} }},
		{name: "description", spec: Spec{Description: new("")}, want: func(w *Webhook) { w.Description = "" }},
		{name: "secret", spec: Spec{Secret: new("whsec_new")}, want: func(w *Webhook) { w.Secret = "whsec_new" }},
		{name: "headers replace, not merge", spec: Spec{Headers: new(map[string]string{"X-New": "2"})}, want: func(w *Webhook) { w.Headers = map[string]string{"X-New": "2"} }},
		{name: "empty headers", spec: Spec{Headers: new(map[string]string{})}, want: func(w *Webhook) { w.Headers = map[string]string{} }},
		{name: "enabled false", spec: Spec{Enabled: new(false)}, want: func(w *Webhook) { w.Enabled = false }},
		{name: "everything", spec: Spec{
			URL: new("https://new.example/"), EventTypes: new([]string{">"}), Description: new("new"),
			Secret: new("whsec_new"), Headers: new(map[string]string{}), Enabled: new(false),
		}, want: func(w *Webhook) {
			w.URL, w.EventTypes, w.Description, w.Secret, w.Headers, w.Enabled = "https://new.example/", []string{">"}, "new", "whsec_new", map[string]string{}, false
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := base(), base()
			tc.spec.Apply(&got)
			tc.want(&want)
			require.True(t, reflect.DeepEqual(want, got), "after Apply\nwant %+v\ngot  %+v", want, got)
		})
	}
}

// TestSpec_Apply_copies: the webhook gets its own copies of the spec's
// slice and map, so that neither side can change the other afterwards.
func TestSpec_Apply_copies(t *testing.T) {
	types := []string{"a.*", "b.>"}
	hdr := map[string]string{"X-Team": "growth"}
	spec := Spec{EventTypes: &types, Headers: &hdr}
	var w1, w2 Webhook
	spec.Apply(&w1)
	spec.Apply(&w2)

	types[0] = "changed"
	hdr["X-Team"] = "changed"
	hdr["X-New"] = "added"
	require.Equal(t, "a.*,b.>", strings.Join(w1.EventTypes, ","), "event_types after the caller changed its slice")
	require.Equal(t, "growth", w1.Headers["X-Team"], "headers after the caller changed its map")
	require.Equal(t, 1, len(w1.Headers), "headers after the caller added to its map")

	w1.EventTypes[1] = "mine"
	w1.Headers["X-Team"] = "mine"
	require.Equal(t, "changed,b.>", strings.Join(types, ","), "the caller's slice after the webhook changed")
	require.Equal(t, "changed", hdr["X-Team"], "the caller's map after the webhook changed")
	require.Equal(t, "a.*,b.>", strings.Join(w2.EventTypes, ","), "another webhook's event_types")
	require.Equal(t, "growth", w2.Headers["X-Team"], "another webhook's headers")
}

// TestDelivery_emptyRetrySchedule: an empty retry_schedule ("no retries")
// is kept apart from none given ("the gateway's default") through Apply
// and the stored JSON.
func TestDelivery_emptyRetrySchedule(t *testing.T) {
	var none, empty Webhook
	Spec{}.Apply(&none)
	Spec{Delivery: DeliverySpec{RetrySchedule: &Durations{}}}.Apply(&empty)
	require.True(t, none.RetrySchedule == nil, "no retry_schedule given: want nil, got %#v", none.RetrySchedule)
	require.True(t, empty.RetrySchedule != nil && len(empty.RetrySchedule) == 0, "retry_schedule []: want an empty list, got %#v", empty.RetrySchedule)

	for _, tc := range []struct {
		w    Webhook
		want string
	}{{none, ""}, {empty, `"retry_schedule":[]`}} {
		b, err := json.Marshal(tc.w)
		require.NoError(t, err)
		if tc.want == "" {
			require.False(t, strings.Contains(string(b), "retry_schedule"), "stored with no retry_schedule: %s", b)
		} else {
			require.Contains(t, string(b), tc.want)
		}
		var back Webhook
		require.NoError(t, json.Unmarshal(b, &back))
		require.Equal(t, tc.w.RetrySchedule == nil, back.RetrySchedule == nil, "nil after a JSON round trip of %s", b)
		require.Equal(t, 0, len(back.RetrySchedule))
	}
}
