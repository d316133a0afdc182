package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// acks records which event numbers the gateway acknowledged.
type acks struct {
	mu sync.Mutex
	ok []bool
}

func (a *acks) add(from int64, n int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for int64(len(a.ok)) < from+int64(n) {
		a.ok = append(a.ok, false)
	}
	for i := range n {
		a.ok[from+int64(i)] = true
	}
}

func (a *acks) snapshot() []bool {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]bool(nil), a.ok...)
}

// eventBody renders n events numbered from first, each carrying its number
// and sent_ns, as one POST body: a single event if batch is false.
func eventBody(b *bytes.Buffer, first int64, n int, sentNS int64, pad string, batch bool) []byte {
	b.Reset()
	if batch {
		b.WriteString(`{"events":[`)
	}
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`{"type":"` + eventType + `","data":`)
		eventData(b, first+int64(i), sentNS, pad)
		b.WriteByte('}')
	}
	if batch {
		b.WriteString(`]}`)
	}
	return b.Bytes()
}

// eventData writes the data object of event n.
func eventData(b *bytes.Buffer, n, sentNS int64, pad string) {
	b.WriteString(`{"n":`)
	b.Write(strconv.AppendInt(b.AvailableBuffer(), n, 10))
	b.WriteString(`,"sent_ns":`)
	b.Write(strconv.AppendInt(b.AvailableBuffer(), sentNS, 10))
	b.WriteString(`,"pad":"`)
	b.WriteString(pad)
	b.WriteString(`"}`)
}

// publishClient returns a client that keeps one connection per publisher.
func publishClient(conns int) *http.Client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns + 4,
		MaxIdleConnsPerHost: conns + 4,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: 60 * time.Second}
}

// publisher publishes numbered events of eventType to the gateway, -batch
// to a request, and counts what the gateway acknowledged. It is safe for
// concurrent use.
type publisher struct {
	gw        *api
	batch     int
	pad       string
	from, end time.Time // the measured window

	next      atomic.Int64 // the next event number
	published atomic.Int64 // events acknowledged
	inWindow  atomic.Int64 // of those, sent within [from, end)
	errs      atomic.Int64
	acked     acks

	mu      sync.Mutex
	samples []string
}

// publish sends one request. It reports false only when ctx has ended.
func (p *publisher) publish(ctx context.Context, buf *bytes.Buffer) bool {
	path := "/v1/events"
	if p.batch > 1 {
		path = "/v1/events/batch"
	}
	first := p.next.Add(int64(p.batch)) - int64(p.batch)
	now := time.Now()
	// A fresh slice per request: the transport may still hold the last
	// body after Do returns.
	body := bytes.Clone(eventBody(buf, first, p.batch, now.UnixNano(), p.pad, p.batch > 1))
	if _, err := p.gw.do(ctx, http.MethodPost, path, body, nil); err != nil {
		if ctx.Err() != nil {
			return false
		}
		p.errs.Add(1)
		p.mu.Lock()
		if len(p.samples) < maxSamples {
			p.samples = append(p.samples, err.Error())
		}
		p.mu.Unlock()
		time.Sleep(10 * time.Millisecond) // a refused connection fails at once: do not spin
		return true
	}
	p.acked.add(first, p.batch)
	p.published.Add(int64(p.batch))
	if !now.Before(p.from) && now.Before(p.end) {
		p.inWindow.Add(int64(p.batch))
	}
	return true
}

// runWindow runs conc publishers, each sending one request after another
// until p.end, while at most window published events (0: any number) are
// not yet delivered; delivered returns how many events have been.
func (p *publisher) runWindow(ctx context.Context, conc, window int, delivered func() int64) {
	var wg sync.WaitGroup
	for range conc {
		wg.Go(func() {
			var buf bytes.Buffer
			for ctx.Err() == nil && time.Now().Before(p.end) {
				for window > 0 && p.published.Load()-delivered() > int64(window) && time.Now().Before(p.end) {
					time.Sleep(time.Millisecond)
				}
				if !p.publish(ctx, &buf) {
					return
				}
			}
		})
	}
	wg.Wait()
}

// lateAfter is how far behind its time a paced publish may start before it
// counts as late: one tick of the pacer and as much again for scheduling.
const lateAfter = 2 * time.Millisecond

// runRate publishes perSecond requests a second from start until p.end. A
// 1 ms ticker works out how many publishes are due (publishesDue) and
// starts each in a goroutine of its own, so a slow answer never delays the
// next publish. It returns, once every publish has returned, how many
// started more than lateAfter behind their time and the most that were in
// flight at once.
func (p *publisher) runRate(ctx context.Context, start time.Time, perSecond float64) (late, maxInFlight int64) {
	var (
		wg       sync.WaitGroup
		inFlight atomic.Int64
		peak     atomic.Int64
		started  int64
	)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for now := start; now.Before(p.end) && ctx.Err() == nil; now = time.Now() {
		for due := publishesDue(perSecond, now.Sub(start)); started < due; started++ {
			if now.Sub(start.Add(publishAt(perSecond, started))) > lateAfter {
				late++
			}
			storeMax(&peak, inFlight.Add(1))
			wg.Go(func() {
				defer inFlight.Add(-1)
				var buf bytes.Buffer
				p.publish(ctx, &buf)
			})
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
		}
	}
	wg.Wait()
	return late, peak.Load()
}

// storeMax raises a to n if n is larger.
func storeMax(a *atomic.Int64, n int64) {
	for m := a.Load(); n > m; m = a.Load() {
		if a.CompareAndSwap(m, n) {
			return
		}
	}
}
