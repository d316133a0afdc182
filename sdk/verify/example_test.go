package verify_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/eventgw/gateway/sdk/verify"
)

// A receiver: build the Verifier once, call VerifyRequest first thing in the
// handler, then decode the bytes it returns.
func Example() {
	// In a real receiver: v, err := verify.New(os.Getenv("WEBHOOK_SECRET")).
	// WithNow only keeps this example's fixed 2021 message fresh.
	v, err := verify.NewWithOptions(
		[]string{"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"},
		verify.WithNow(func() time.Time { return time.Unix(1614265330, 0) }),
	)
	if err != nil {
		log.Fatal(err)
	}

	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := v.VerifyRequest(r)
		if errors.Is(err, verify.ErrBodyTooLarge) {
			http.Error(w, "too large", http.StatusRequestEntityTooLarge)
			return
		}
		if err != nil {
			http.Error(w, "invalid signature", http.StatusUnauthorized)
			return
		}
		var payload struct{ Test int64 }
		if err := json.Unmarshal(body, &payload); err != nil {
			http.Error(w, "bad payload", http.StatusBadRequest)
			return
		}
		// De-duplicate on webhook-id: retries carry the same id.
		fmt.Println("accepted", r.Header.Get("webhook-id"), payload.Test)
	})

	for _, sig := range []string{
		"v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
		"v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
	} {
		r := httptest.NewRequest(http.MethodPost, "/webhooks", strings.NewReader(`{"test": 2432232314}`))
		r.Header.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
		r.Header.Set("webhook-timestamp", "1614265330")
		r.Header.Set("webhook-signature", sig)
		w := httptest.NewRecorder()
		handler.ServeHTTP(w, r)
		fmt.Println(w.Code)
	}
	// Output:
	// accepted msg_p5jXN8AQM9LWM0D4loKWxJek 2432232314
	// 200
	// 401
}

func ExampleVerifier_Verify() {
	// A v1a (Ed25519) message, checked with the sender's public key.
	v, err := verify.NewWithOptions(
		[]string{"whpk_1SiA4o9hyqTCpIqC5V9HUakiiaeACeqfZTInDBbOir4="},
		verify.WithNow(func() time.Time { return time.Unix(1614265330+60, 0) }),
	)
	if err != nil {
		log.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek")
	h.Set("webhook-timestamp", "1614265330")
	h.Set("webhook-signature", "v2,unknown v1a,hnO3f9T8Ytu9HwrXslvumlUpqtNVqkhqw/enGzPCXe5BdqzCInXqYXFymVJaA7AZdpXwVLPo3mNl8EM+m7TBAg==")

	fmt.Println(v.Verify(h, []byte(`{"test": 2432232314}`)))
	fmt.Println(v.Verify(h, []byte(`{"test": 1}`)))
	// Output:
	// <nil>
	// verify: no matching signature
}

func ExampleNew_rotation() {
	// During a secret rotation, trust the old and the new secret; a message
	// signed with either verifies.
	v, err := verify.New(
		"whsec_3QNdLOfDK2VS6iygJfDlC2sg3eQHwY5e2TVL4Fd+1Lk=", // old
		"whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",             // new
	)
	fmt.Println(v != nil, err)
	// Output: true <nil>
}

// A receiver that routes flagged events to review. The flags are not
// signed, so read them only after the request verified.
func ExampleFlags() {
	h := http.Header{}
	h.Set("webhook-flags", "large amount 20000, velocity: 3%2C limit 2")
	for _, reason := range verify.Flags(h) {
		fmt.Println("flagged:", reason)
	}
	// Output:
	// flagged: large amount 20000
	// flagged: velocity: 3, limit 2
}
