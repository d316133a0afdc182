package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/eventgw/gateway/gateway/internal/outbox"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/gateway/internal/store"
	"github.com/eventgw/gateway/gateway/internal/webhook"
	"github.com/eventgw/gateway/sdk/verify"
)

// These tests run the real gateway against a real loopback receiver. Retry
// schedules are tens of milliseconds and every wait is a bounded poll; no
// test asserts an upper bound on how long something takes.

// dataN returns the "n" member of a delivered body's data, or -1.
func dataN(body []byte) int {
	var p struct {
		Data struct {
			N *int `json:"n"`
		} `json:"data"`
	}
	if json.Unmarshal(body, &p) != nil || p.Data.N == nil {
		return -1
	}
	return *p.Data.N
}

// signatures splits a webhook-signature header into its entries.
func signatures(h http.Header) []string { return strings.Fields(h.Get("webhook-signature")) }

func TestDelivery_signedPayload(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, nil)
	wh := r.createHook(t, rc.URL+"/hook", []string{"link.*"}, `"headers":{"X-Tenant":"acme"}`)

	ev := r.publish(t, "link.created", `{"url":"https://example.com/a","n":1}`)
	h := rc.waitCount(t, 1)[0]

	// The independent Standard Webhooks library and the repo's own SDK both
	// accept the request as sent.
	lib, err := standardwebhooks.NewWebhook(wh.Secret)
	require.NoError(t, err)
	require.NoError(t, lib.Verify(h.Body, h.Header), "standard-webhooks library")
	v, err := verify.New(wh.Secret)
	require.NoError(t, err)
	require.NoError(t, v.Verify(h.Header, h.Body), "sdk/verify")
	// A body changed by one byte verifies with neither.
	tampered := bytes.Replace(h.Body, []byte(`"n":1`), []byte(`"n":2`), 1)
	require.Error(t, lib.Verify(tampered, h.Header), "the library must refuse a changed body")
	require.Error(t, v.Verify(h.Header, tampered), "sdk/verify must refuse a changed body")

	// The body is exactly {"id","type","timestamp","data"}.
	var body map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(h.Body, &body))
	keys := make([]string, 0, len(body))
	for k := range body {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	require.Equal(t, "data id timestamp type", strings.Join(keys, " "))
	require.Equal(t, quote(ev.ID), string(body["id"]))
	require.Equal(t, `"link.created"`, string(body["type"]))
	var ts string
	require.NoError(t, json.Unmarshal(body["timestamp"], &ts))
	_, err = time.Parse(time.RFC3339, ts)
	require.NoError(t, err, "timestamp %q is not RFC 3339", ts)
	var data bytes.Buffer
	require.NoError(t, json.Compact(&data, body["data"]))
	require.Equal(t, `{"url":"https://example.com/a","n":1}`, data.String())

	require.Equal(t, ev.ID, h.Header.Get("webhook-id"))
	require.True(t, strings.HasPrefix(h.Header.Get("User-Agent"), "gateway/"), "user-agent %q", h.Header.Get("User-Agent"))
	require.Equal(t, "application/json", h.Header.Get("Content-Type"))
	require.Equal(t, "acme", h.Header.Get("X-Tenant"))
	require.Equal(t, 1, len(signatures(h.Header)))
	require.True(t, strings.HasPrefix(signatures(h.Header)[0], "v1,"), "signature %q", signatures(h.Header)[0])

	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, 1, len(d.AttemptLog))
	require.Equal(t, http.StatusOK, d.AttemptLog[0].StatusCode)
}

func TestDelivery_fanOut(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	patterns := []string{"link.*", "link.>", ">", "order.*"}
	rcs := make([]*receiver, len(patterns))
	hooks := make([]webhookView, len(patterns))
	for i, p := range patterns {
		rcs[i] = newReceiver(t, nil)
		hooks[i] = r.createHook(t, rcs[i].URL, []string{p}, "")
	}
	created := r.publish(t, "link.created", `{}`)
	deep := r.publish(t, "link.a.b", `{}`)
	other := r.publish(t, "user.signup", `{}`)

	want := [][]string{
		{created.ID},                    // link.*
		{created.ID, deep.ID},           // link.>
		{created.ID, deep.ID, other.ID}, // >
		nil,                             // order.*
	}
	for i := range patterns {
		if len(want[i]) > 0 {
			rcs[i].waitCount(t, len(want[i]))
		}
	}
	// Deliveries are created for every matching webhook when an event is
	// fanned out, so once the last event has arrived anywhere, each
	// webhook's deliveries are all there.
	for i, p := range patterns {
		var got []string
		for _, d := range r.deliveries(t, hooks[i].ID, "") {
			got = append(got, d.EventID)
		}
		slices.Reverse(got) // the list is newest first
		require.Equal(t, strings.Join(want[i], " "), strings.Join(got, " "), "deliveries of %s", p)
		for _, id := range want[i] {
			r.waitDelivery(t, id, hooks[i].ID, outbox.StatusSucceeded)
		}
		slices.Sort(want[i])
		ids := rcs[i].ids()
		slices.Sort(ids)
		require.Equal(t, strings.Join(want[i], " "), strings.Join(ids, " "), "requests to %s", p)
	}
}

func TestDelivery_failTwiceThenSucceed(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if h.Nth <= 2 {
			http.Error(w, "try again", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)

	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 3, d.Attempts)
	require.Equal(t, 3, len(d.AttemptLog))
	for i, want := range []int{500, 500, 204} {
		a := d.AttemptLog[i]
		require.Equal(t, i+1, a.N)
		require.Equal(t, want, a.StatusCode, "attempt %d", i+1)
		require.False(t, a.StartedAt.IsZero(), "attempt %d has no started_at", i+1)
	}
	require.Contains(t, d.AttemptLog[0].Body, "try again")
	require.Contains(t, d.AttemptLog[0].Error, "500")
	require.Equal(t, 3, len(rc.of(ev.ID)))
}

func TestDelivery_alwaysFailingEndsDead(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, status(http.StatusInternalServerError))
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)

	// retry_schedule [50ms, 100ms]: the first attempt and two retries.
	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusDead)
	require.Equal(t, 3, d.Attempts)
	require.Equal(t, 3, len(d.AttemptLog))
	require.Equal(t, 500, d.LastStatus)
	require.Equal(t, 3, len(rc.of(ev.ID)))
}

// goneSetup registers a webhook (one request at a time, so arrival order is
// dispatch order) whose receiver answers 410 to the first request, and
// returns once the webhook is disabled and its deliveries parked.
func goneSetup(t *testing.T) (*running, *receiver, webhookView, []string) {
	t.Helper()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		w.WriteHeader(http.StatusGone)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, `"max_in_flight":1`)
	first := r.publish(t, "a.b", `{"n":0}`).ID
	require.Eventually(t, "the webhook to be disabled", func() bool { return !r.webhook(t, wh.ID).Enabled })
	got := r.webhook(t, wh.ID)
	require.Contains(t, got.DisabledReason, "410")
	d := r.waitDelivery(t, first, wh.ID, outbox.StatusParked)
	require.Equal(t, 1, d.Attempts)
	require.Equal(t, http.StatusGone, d.LastStatus)

	// Later events are kept, parked; nothing is sent while disabled.
	ids := append([]string{first}, r.publishN(t, "a.b", 3)...)
	for _, id := range ids[1:] {
		r.waitDelivery(t, id, wh.ID, outbox.StatusParked)
	}
	require.Equal(t, 1, rc.count())
	rc.script(nil) // 200 from now on
	return r, rc, wh, ids
}

func TestDelivery_goneParksThenEnableResumes(t *testing.T) {
	t.Parallel()
	r, rc, wh, ids := goneSetup(t)

	var v webhookView
	r.mustDo(t, http.MethodPatch, "/v1/webhooks/"+wh.ID, `{"enabled":true}`, http.StatusOK, &v)
	require.True(t, v.Enabled, "PATCH answer: enabled")
	require.Equal(t, "", v.DisabledReason)
	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
	// The parked deliveries went out in event order, after the 410.
	var order []string
	for _, h := range rc.all()[1:] {
		order = append(order, h.ID)
	}
	require.Equal(t, strings.Join(ids, " "), strings.Join(order, " "))
}

func TestDelivery_goneDiscardParked(t *testing.T) {
	t.Parallel()
	r, rc, wh, ids := goneSetup(t)

	r.mustDo(t, http.MethodPatch, "/v1/webhooks/"+wh.ID, `{"enabled":true,"discard_parked":true}`, http.StatusOK, nil)
	for _, id := range ids {
		d := r.waitDelivery(t, id, wh.ID, outbox.StatusDead)
		require.Contains(t, d.Note, "discarded")
	}
	// The webhook works again for new events; the discarded ones are not sent.
	next := r.publish(t, "a.b", `{}`)
	r.waitDelivery(t, next.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 2, rc.count())
	require.Equal(t, next.ID, rc.all()[1].ID)
	require.Equal(t, 0, len(r.deliveries(t, wh.ID, outbox.StatusParked)))
}

func TestDelivery_retryAfter(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	codes := map[int]int{0: http.StatusTooManyRequests, 1: http.StatusServiceUnavailable}
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if code, ok := codes[dataN(h.Body)]; ok && h.Nth == 1 {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(code)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ids := r.publishN(t, "a.b", 2)

	for i, id := range ids {
		d := r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
		require.Equal(t, 2, len(d.AttemptLog))
		require.Equal(t, codes[i], d.AttemptLog[0].StatusCode)
		require.Equal(t, "1", d.AttemptLog[0].Headers["Retry-After"])
		hs := rc.of(id)
		require.Equal(t, 2, len(hs))
		// A lower bound only: the retry came no sooner than Retry-After
		// after the first attempt started (the schedule alone says 50ms).
		gap := hs[1].At.Sub(d.AttemptLog[0].StartedAt)
		require.True(t, gap >= time.Second, "HTTP %d with Retry-After: 1 was retried after %s", codes[i], gap)
	}
}

func TestDelivery_redirectNotFollowed(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	target := newReceiver(t, nil)
	rc := newReceiver(t, func(w http.ResponseWriter, req *http.Request, _ hit) {
		http.Redirect(w, req, target.URL+"/elsewhere", http.StatusFound)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)

	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusDead)
	require.Equal(t, 3, len(d.AttemptLog), "a 3xx is a failure and is retried")
	for _, a := range d.AttemptLog {
		require.Equal(t, http.StatusFound, a.StatusCode)
		require.Equal(t, target.URL+"/elsewhere", a.Headers["Location"])
		require.Contains(t, a.Error, "redirect")
	}
	require.Equal(t, 3, rc.count())
	require.Equal(t, 0, target.count())
}

// TestDelivery_timeout: an attempt that outlives delivery.timeout fails and
// is retried. The first request hangs until the gateway gives up; the
// second must succeed within the same timeout, so it is seconds, not
// milliseconds, to keep a wide margin over a busy machine's stalls.
func TestDelivery_timeout(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig("timeout: 5s"))
	rc := newReceiver(t, func(w http.ResponseWriter, req *http.Request, h hit) {
		if h.Nth == 1 {
			sleepCtx(req, time.Minute) // returns when the gateway gives up
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)

	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 2, len(d.AttemptLog))
	a := d.AttemptLog[0]
	require.Equal(t, 0, a.StatusCode)
	require.Contains(t, a.Error, "timed out")
	require.Contains(t, a.Error, "delivery.timeout")
	require.Equal(t, http.StatusOK, d.AttemptLog[1].StatusCode)
}

func TestDelivery_secretRotation(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, nil)
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	oldSecret := wh.Secret

	e1 := r.publish(t, "a.b", `{}`)
	h1 := rc.waitCount(t, 1)[0]
	require.Equal(t, e1.ID, h1.ID)
	require.Equal(t, 1, len(signatures(h1.Header)))

	var rotated webhookView
	r.mustDo(t, http.MethodPost, "/v1/webhooks/"+wh.ID+"/secret/rotate", "", http.StatusOK, &rotated)
	newSecret := rotated.Secret
	require.True(t, newSecret != "" && newSecret != oldSecret, "rotate must return a new secret")

	e2 := r.publish(t, "a.b", `{}`)
	h2 := rc.waitCount(t, 2)[1]
	require.Equal(t, e2.ID, h2.ID)
	sigs := signatures(h2.Header)
	require.Equal(t, 2, len(sigs), "during the overlap both secrets sign: %q", sigs)
	for _, sig := range sigs {
		require.True(t, strings.HasPrefix(sig, "v1,"), "signature entry %q", sig)
	}
	for name, secret := range map[string]string{"old": oldSecret, "new": newSecret} {
		lib, err := standardwebhooks.NewWebhook(secret)
		require.NoError(t, err)
		require.NoError(t, lib.Verify(h2.Body, h2.Header), "library, %s secret", name)
		v, err := verify.New(secret)
		require.NoError(t, err)
		require.NoError(t, v.Verify(h2.Header, h2.Body), "sdk/verify, %s secret", name)
	}
	// The request before the rotation verifies only with the old secret.
	lib, err := standardwebhooks.NewWebhook(newSecret)
	require.NoError(t, err)
	require.Error(t, lib.Verify(h1.Body, h1.Header), "the new secret must not verify a request signed before it existed")
}

func TestDelivery_asymmetricSignature(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, nil)
	wh := r.createHook(t, rc.URL, []string{">"}, `"signature_scheme":"v1a"`)
	require.True(t, strings.HasPrefix(wh.PublicKey, "whpk_"), "public_key %q", wh.PublicKey)
	require.Equal(t, wh.PublicKey, r.webhook(t, wh.ID).PublicKey)

	ev := r.publish(t, "a.b", `{"x":1}`)
	h := rc.waitCount(t, 1)[0]
	require.Equal(t, ev.ID, h.ID)
	sigs := signatures(h.Header)
	require.Equal(t, 1, len(sigs))
	require.True(t, strings.HasPrefix(sigs[0], "v1a,"), "signature %q", sigs[0])
	v, err := verify.New(wh.PublicKey)
	require.NoError(t, err)
	require.NoError(t, v.Verify(h.Header, h.Body))
	require.Error(t, v.Verify(h.Header, append(bytes.Clone(h.Body), ' ')), "a changed body must not verify")
}

func TestDelivery_ordered(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	// Event 2 (data n=1) fails its first attempt.
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if dataN(h.Body) == 1 && h.Nth == 1 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, `"ordered":true`)
	const n = 8
	ids := r.publishN(t, "a.b", n)
	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}

	hs := rc.all()
	require.Equal(t, n+1, len(hs), "one request per event plus the retry of event 2")
	require.Equal(t, strings.Join(ids, " "), strings.Join(rc.ids(), " "), "first arrivals are in publish order")
	// Nothing after event 2 arrived before event 2 succeeded (its second
	// request); with ordered delivery every request waits for the previous.
	require.Equal(t, ids[1], hs[1].ID)
	require.Equal(t, ids[1], hs[2].ID)
	var got []string
	for _, h := range hs {
		if len(got) == 0 || got[len(got)-1] != h.ID {
			got = append(got, h.ID)
		}
	}
	require.Equal(t, strings.Join(ids, " "), strings.Join(got, " "), "arrival order")
	require.Equal(t, int32(1), rc.maxInFlight.Load())
}

// TestDelivery_maxInFlight holds every request at the receiver until two
// are held at once and every delivery exists (so the engine has queued all
// 20 and run its dispatch with them due), then releases them. The limit is
// checked over the whole run: the receiver records the most requests it
// ever held at once.
func TestDelivery_maxInFlight(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	release := make(chan struct{})
	rc := newReceiver(t, func(w http.ResponseWriter, req *http.Request, _ hit) {
		select {
		case <-release:
		case <-req.Context().Done():
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, `"max_in_flight":2`)
	const n = 20
	ids := r.publishN(t, "a.b", n)
	require.Eventually(t, "two requests held at once", func() bool { return rc.inFlight.Load() >= 2 })
	// Fan-out has created every delivery: the engine queued them all and
	// dispatched with 20 due while two were held. A limit that let a third
	// through would have sent it by now (a busy machine can only delay
	// that request, never fail the test).
	require.Eventually(t, "every delivery to exist", func() bool {
		for _, id := range ids {
			if _, ok := r.delivery(t, id, wh.ID); !ok {
				return false
			}
		}
		return true
	})
	close(release)
	rc.waitCount(t, n)
	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
	// Never more than two at once; and two at once did happen (the limit
	// is the per-webhook one, not the gateway's default of 8 or 1).
	require.Equal(t, int32(2), rc.maxInFlight.Load(), "most concurrent requests")
}

func TestDelivery_rateLimit(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, nil)
	const rate, burst = 20, 20 // the bucket holds max(1, rate) tokens
	wh := r.createHook(t, rc.URL, []string{">"}, fmt.Sprintf(`"rate_limit":%d`, rate))
	const n = 50
	start := time.Now() // from here the bucket gives at most burst, then rate a second
	ids := r.publishN(t, "a.b", n)
	hs := rc.waitCount(t, n)
	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
	// The k-th arrival (from 0) came after k+1 tokens were taken, so no
	// sooner than (k+1-burst)/rate seconds after start. Only lower bounds:
	// a busy machine delays requests, and so cannot fail this check.
	at := make([]time.Duration, len(hs))
	for i, h := range hs {
		at[i] = h.At.Sub(start)
	}
	slices.Sort(at)
	for k, got := range at {
		earliest := time.Duration(float64(k+1-burst) / rate * float64(time.Second))
		require.True(t, got >= earliest, "request %d arrived %s after publishing began; rate_limit %d (burst %d) allows it no sooner than %s", k+1, got, rate, burst, earliest)
	}
}

func TestDelivery_replay(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	// Event n=2 fails until the script changes.
	rc := newReceiver(t, func(w http.ResponseWriter, _ *http.Request, h hit) {
		if dataN(h.Body) == 2 {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	since := time.Now().Add(-time.Second).UTC().Format(time.RFC3339Nano)
	ids := r.publishN(t, "a.b", 3)
	r.waitDelivery(t, ids[0], wh.ID, outbox.StatusSucceeded)
	r.waitDelivery(t, ids[1], wh.ID, outbox.StatusSucceeded)
	r.waitDelivery(t, ids[2], wh.ID, outbox.StatusDead)
	rc.script(nil)

	// Replaying only the dead ones sends event 3 once more.
	var res struct{ Replayed int }
	r.mustDo(t, http.MethodPost, "/v1/webhooks/"+wh.ID+"/replay", `{"since":"`+since+`","status":["dead"]}`, http.StatusAccepted, &res)
	require.Equal(t, 1, res.Replayed)
	d := r.waitDelivery(t, ids[2], wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 4, d.Attempts)
	require.Equal(t, 4, len(rc.of(ids[2])))
	require.Equal(t, 1, len(rc.of(ids[0])))
	require.Equal(t, 1, len(rc.of(ids[1])))

	// Replaying everything since re-delivers each event with its own
	// webhook-id, signed afresh.
	r.mustDo(t, http.MethodPost, "/v1/webhooks/"+wh.ID+"/replay", `{"since":"`+since+`"}`, http.StatusAccepted, &res)
	require.Equal(t, 3, res.Replayed)
	require.Eventually(t, "every event to arrive once more", func() bool {
		return len(rc.of(ids[0])) == 2 && len(rc.of(ids[1])) == 2 && len(rc.of(ids[2])) == 5
	})
	v, err := verify.New(wh.Secret)
	require.NoError(t, err)
	for _, id := range ids {
		hs := rc.of(id)
		last := hs[len(hs)-1]
		require.Equal(t, id, last.ID)
		require.Equal(t, id, dataEventID(t, last.Body))
		require.NoError(t, v.Verify(last.Header, last.Body))
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
}

// dataEventID returns the "id" member of a delivered body.
func dataEventID(tb testing.TB, body []byte) string {
	tb.Helper()
	var p struct{ ID string }
	require.NoError(tb, json.Unmarshal(body, &p))
	return p.ID
}

func TestDelivery_retryDead(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	rc := newReceiver(t, status(http.StatusBadGateway))
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)
	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusDead)
	require.Equal(t, 3, d.Attempts)

	rc.script(nil)
	var accepted deliveryView
	r.mustDo(t, http.MethodPost, "/v1/deliveries/"+d.ID+"/retry", "", http.StatusAccepted, &accepted)
	require.Equal(t, d.ID, accepted.ID)
	d = r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusSucceeded)
	require.Equal(t, 4, d.Attempts)
	require.Equal(t, 4, len(d.AttemptLog))
	require.Equal(t, http.StatusOK, d.AttemptLog[3].StatusCode)
	require.Equal(t, 4, len(rc.of(ev.ID)))
}

// apiError is the error body of the API.
type apiError struct {
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field"`
	} `json:"error"`
}

func TestDelivery_egressRegistration(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig())
	for _, u := range []string{"http://10.0.0.1/x", "http://169.254.169.254/", "http://[::ffff:10.0.0.1]/"} {
		var e apiError
		status, err := r.do(t, http.MethodPost, "/v1/webhooks", `{"url":`+quote(u)+`,"event_types":[">"]}`, &e)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, status, u)
		require.Equal(t, "url", e.Error.Field, u)
		require.Contains(t, e.Error.Message, "egress", u)
	}
}

// TestDelivery_egressDial checks the guard at dial time: the webhook's host
// is a name, which registration does not resolve, and the name resolves to
// an address the config does not open. The API refuses "localhost" at
// registration and no other name resolves to loopback without DNS, so the
// webhook is written into the store before the gateway starts, as if it had
// been registered while the name pointed elsewhere (DNS rebinding).
func TestDelivery_egressDial(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	rc := newReceiver(t, nil)
	port := mustPort(t, rc.URL)
	hookURL := "http://localhost:" + port + "/hook"

	st, err := store.Open(store.Options{Path: s.dataDir, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	now := time.Now().UTC()
	_, err = st.MutateWebhook(context.Background(), "wh_rebound", func(*webhook.Webhook) (*webhook.Webhook, error) {
		return &webhook.Webhook{
			ID: "wh_rebound", URL: hookURL, EventTypes: []string{">"}, Secret: webhook.NewSecret(),
			Enabled: true, CreatedAt: now, UpdatedAt: now,
		}, nil
	})
	require.NoError(t, err)
	require.NoError(t, st.Close())

	// Only 127.0.0.2 is open: the receiver's 127.0.0.1 is not.
	r := s.start(s.deliveryConfig("allowed_cidrs: [127.0.0.2/32]"))
	var e apiError
	status, err := r.do(t, http.MethodPost, "/v1/webhooks", `{"url":`+quote(hookURL)+`,"event_types":[">"]}`, &e)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, status, "registering %s", hookURL)
	require.Equal(t, "url", e.Error.Field)

	ev := r.publish(t, "a.b", `{}`)
	d := r.waitDelivery(t, ev.ID, "wh_rebound", outbox.StatusDead)
	require.Equal(t, 3, len(d.AttemptLog))
	for _, a := range d.AttemptLog {
		require.Equal(t, 0, a.StatusCode)
		require.Contains(t, a.Error, "egress")
		require.Contains(t, a.Error, "127.0.0.1")
	}
	require.Equal(t, 0, rc.count())
}

func mustPort(tb testing.TB, raw string) string {
	tb.Helper()
	u, err := url.Parse(raw)
	require.NoError(tb, err)
	return u.Port()
}

// TestDelivery_restart stops the gateway while deliveries are failing and
// pending, and starts a new one on the same data directory: every event is
// delivered.
func TestDelivery_restart(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	// Long enough a schedule that nothing dies before the restart; no
	// breaker, so every delivery gets its first attempt quickly.
	cfg := s.deliveryConfig(
		"retry_schedule: [200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms, 200ms]",
		"breaker_failures: 1000",
	)
	r := s.start(cfg)
	rc := newReceiver(t, status(http.StatusInternalServerError))
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	const n = 30
	ids := r.publishN(t, "a.b", n)
	rc.waitCount(t, 10)
	require.NoError(t, r.stop(t))
	failedBefore := rc.count()
	triedBefore := rc.ids()

	rc.script(nil)
	r = s.start(cfg)
	require.Eventually(t, "every event to reach the receiver", func() bool { return len(rc.ids()) == n })
	for _, id := range ids {
		r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
	}
	// The failures before the restart are still on record: the restarted
	// gateway retried those deliveries, it did not start them afresh.
	for _, id := range triedBefore {
		d := r.waitDelivery(t, id, wh.ID, outbox.StatusSucceeded)
		require.True(t, d.Attempts >= 2, "delivery of %s: %d attempts, want the failure before the restart and the success", id, d.Attempts)
		require.Equal(t, http.StatusInternalServerError, d.AttemptLog[0].StatusCode, "first attempt of %s", id)
	}
	t.Logf("%d failed requests before the restart, %d requests in all for %d events", failedBefore, rc.count(), n)
	require.NoError(t, r.stop(t))
}

// TestDelivery_deleteFinishesDeliveries checks that deleting a webhook
// leaves none of its deliveries waiting: parked ones become dead with a
// note, so nothing is silently kept forever or sent to a removed endpoint.
func TestDelivery_deleteFinishesDeliveries(t *testing.T) {
	t.Parallel()
	r, rc, wh, ids := goneSetup(t)

	r.mustDo(t, http.MethodDelete, "/v1/webhooks/"+wh.ID, "", http.StatusNoContent, nil)
	for _, id := range ids {
		d := r.waitDelivery(t, id, wh.ID, outbox.StatusDead)
		require.Contains(t, d.Note, "webhook deleted")
	}
	require.Equal(t, 0, len(r.deliveries(t, wh.ID, outbox.StatusParked)))
	require.Equal(t, 1, rc.count()) // only the attempt that got the 410
}

// TestDelivery_circuitBreaker checks that after breaker_failures consecutive
// failures an endpoint's other deliveries wait together instead of each
// being tried: with a one-hour retry schedule the breaker stays open for
// the whole test, so exactly breaker_failures requests arrive and the rest
// of the deliveries stay pending, unattempted.
func TestDelivery_circuitBreaker(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig("retry_schedule: [1h]", "breaker_failures: 3"))
	rc := newReceiver(t, status(http.StatusInternalServerError))
	wh := r.createHook(t, rc.URL, []string{">"}, `"max_in_flight": 1`)
	ids := r.publishN(t, "a.b", 10)

	rc.waitCount(t, 3)
	require.Eventually(t, "three failed attempts to be recorded", func() bool {
		return len(r.deliveries(t, wh.ID, outbox.StatusFailed)) >= 3
	})
	// Give a broken breaker every chance to send more before looking. It
	// would within milliseconds; a busy machine can only hide that, never
	// fail the test.
	time.Sleep(300 * time.Millisecond)
	require.Equal(t, 3, rc.count())
	failed := r.deliveries(t, wh.ID, outbox.StatusFailed)
	require.Equal(t, 3, len(failed))
	pending := r.deliveries(t, wh.ID, outbox.StatusPending)
	require.Equal(t, len(ids)-3, len(pending))
	for _, d := range pending {
		require.Equal(t, 0, d.Attempts, "delivery %s was attempted while the breaker was open", d.ID)
	}
}

// TestDelivery_autoDisable checks that an endpoint failing continuously for
// disable_after is disabled with a reason, and its deliveries are parked,
// not dropped. disable_after is seconds, so that one attempt stalled by a
// busy machine does not last that long alone; the schedule (5 s of waits)
// outlasts it, so the delivery cannot die first.
func TestDelivery_autoDisable(t *testing.T) {
	t.Parallel()
	s := newSite(t)
	r := s.start(s.deliveryConfig("retry_schedule: [500ms, 500ms, 500ms, 500ms, 500ms, 500ms, 500ms, 500ms, 500ms, 500ms]", "disable_after: 2s", "breaker_failures: 100"))
	rc := newReceiver(t, status(http.StatusInternalServerError))
	wh := r.createHook(t, rc.URL, []string{">"}, "")
	ev := r.publish(t, "a.b", `{}`)

	require.Eventually(t, "the webhook to be disabled", func() bool { return !r.webhook(t, wh.ID).Enabled })
	require.Contains(t, r.webhook(t, wh.ID).DisabledReason, "failing continuously")
	d := r.waitDelivery(t, ev.ID, wh.ID, outbox.StatusParked)
	require.True(t, d.Attempts >= 2, "want several failed attempts before the disable, got %d", d.Attempts)
}
