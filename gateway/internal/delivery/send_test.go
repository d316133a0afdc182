package delivery

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/internal/require"
)

type nopSigner struct{}

func (nopSigner) Sign(string, time.Time, []byte) string { return "v1,x" }

// TestSender_send_hugeHeaders: a receiver that answers with ~1 MB of
// headers fails the attempt with a clear error instead of making the
// gateway buffer them (64 workers × 10 MB, Go's default, is 640 MB).
func TestSender_send_hugeHeaders(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { _ = ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = http.ReadRequest(bufio.NewReader(c))
				w := bufio.NewWriter(c)
				_, _ = w.WriteString("HTTP/1.1 200 OK\r\n")
				line := "X-Filler: " + strings.Repeat("a", 1000) + "\r\n"
				for range 1000 {
					_, _ = w.WriteString(line)
				}
				_, _ = w.WriteString("Content-Length: 0\r\n\r\n")
				_ = w.Flush()
			}()
		}
	}()

	var d net.Dialer
	s := newSender(d.DialContext, "test", 1024, 30*time.Second, 1)
	o := s.send(context.Background(), "http://"+ln.Addr().String()+"/", nil, "msg_1", []byte(`{}`), nopSigner{}, "")
	if o.err == nil {
		t.Fatalf("attempt succeeded with status %d; want it refused for headers over 64 KiB", o.status)
	}
	require.Contains(t, o.errorText(), "response headers larger than 64 KiB")
}
