package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/httpapi"
	"github.com/eventgw/gateway/gateway/internal/jsonstrict"
)

// benchEvent is a typical payment event, about 400 bytes.
const benchEvent = `{"type":"payment.charged","source":"shop","data":{"amount":1299,"currency":"EUR","card_id":"card_8a7f","ip":"203.0.113.9","customer":{"id":"cus_42","email":"ada@example.com","name":"Ada Lovelace","tags":["vip","beta"]},"items":[{"sku":"A-1","qty":2,"price":4.5},{"sku":"B-2","qty":1,"price":3.99}],"note":"caf\u00e9 – entregado","paid":true,"refund":null}}`

// The ingest benchmarks split the cost of one event: the strict check
// alone, the whole decode (check included), and the whole publish over
// loopback HTTP into Badger on disk with Sync on. The ratio of the first
// to the last is what strict JSON costs the ingest path.

func BenchmarkIngest_strictCheck(b *testing.B) {
	body := []byte(benchEvent)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := jsonstrict.Check(body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkIngest_decode(b *testing.B) {
	body := []byte(benchEvent)
	h := http.Header{"Content-Type": {"application/json"}}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := httpapi.DecodeEvent(h, body, 0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkIngest_publish is the whole path with 16 publishers per CPU, so
// that group commit shares each sync; ns/op is per event.
func BenchmarkIngest_publish(b *testing.B) {
	h := newHarness(b)
	b.SetParallelism(16)
	b.SetBytes(int64(len(benchEvent)))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			r, err := h.send(http.MethodPost, "/v1/events", benchEvent, "Content-Type", "application/json")
			if err != nil {
				b.Error(err)
				return
			}
			if r.status != http.StatusAccepted {
				b.Errorf("status %d: %s", r.status, r.body)
				return
			}
		}
	})
}
