//go:build !wasip1

package sdk

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/sdk/abi"
	"github.com/eventgw/gateway/sdk/internal/fakehost"
)

func TestConfig(t *testing.T) {
	registered(t, nil)
	long := strings.Repeat("v", 1000) // over the first buffer: read retries
	fakehost.Default.SetConfig("short", "10")
	fakehost.Default.SetConfig("long", long)
	fakehost.Default.SetConfig("empty", "")
	for _, tt := range []struct {
		key, want string
		ok        bool
	}{
		{"short", "10", true}, {"long", long, true}, {"empty", "", true}, {"missing", "", false},
	} {
		if got, ok := Config(tt.key); got != tt.want || ok != tt.ok {
			t.Errorf("Config(%q) = %.20q, %v", tt.key, got, ok)
		}
	}
}

func TestRead_valueGrowsBetweenCalls(t *testing.T) {
	sizes := []int32{20, 30, 30} // the value grows once between calls
	calls := 0
	fn := func(key string, buf []byte) int32 {
		n := sizes[calls]
		calls++
		return n
	}
	b, st := read(fn, "k", make([]byte, 5))
	if st != abi.StatusOK || len(b) != 30 || calls != 3 {
		t.Fatalf("got %d bytes, status %d, %d calls", len(b), st, calls)
	}
	calls = 0
	growing := func(string, []byte) int32 { calls++; return int32(100 * calls) }
	if _, st := read(growing, "k", nil); st != abi.StatusUnavailable {
		t.Errorf("a value that keeps growing: status %d", st)
	}
}

func TestKV(t *testing.T) {
	registered(t, nil)
	if _, ok := KVGet("k"); ok {
		t.Fatal("empty store")
	}
	big := []byte(strings.Repeat("x", 5000))
	if err := KVSet("k", big, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok := KVGet("k"); !ok || string(v) != string(big) {
		t.Fatalf("KVGet = %d bytes, %v", len(v), ok)
	}
	if err := KVSet("empty", nil, 0); err != nil {
		t.Fatal(err)
	}
	if v, ok := KVGet("empty"); !ok || v == nil || len(v) != 0 {
		t.Errorf("empty value: %v, %v", v, ok)
	}
	if err := KVDelete("k"); err != nil {
		t.Fatal(err)
	}
	if err := KVDelete("k"); err != nil {
		t.Errorf("deleting a missing key: %v", err)
	}
	if _, ok := KVGet("k"); ok {
		t.Error("deleted key still there")
	}

	// TTLs, on the fake host's clock: the wall clock plus what Advance
	// added, so the check before expiry keeps a 10 s margin for a busy
	// machine's stalls.
	if err := KVSet("t", []byte("v"), time.Minute); err != nil {
		t.Fatal(err)
	}
	fakehost.Default.Advance(50 * time.Second)
	if _, ok := KVGet("t"); !ok {
		t.Error("expired early")
	}
	fakehost.Default.Advance(10 * time.Second)
	if _, ok := KVGet("t"); ok {
		t.Error("not expired")
	}
}

func TestKV_errors(t *testing.T) {
	registered(t, nil)
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"empty key", KVSet("", []byte("v"), 0), ErrInvalid},
		{"long key", KVSet(strings.Repeat("k", abi.MaxKVKeyBytes+1), nil, 0), ErrInvalid},
		{"negative ttl", KVSet("k", nil, -time.Second), ErrInvalid},
		{"big value", KVSet("k", make([]byte, abi.MaxKVValueBytes+1), 0), ErrTooLarge},
		{"delete empty key", KVDelete(""), ErrInvalid},
	}
	for _, tt := range tests {
		if !errors.Is(tt.err, tt.want) {
			t.Errorf("%s: err %v, want %v", tt.name, tt.err, tt.want)
		}
	}
	fakehost.Default.SetKVQuota(100)
	if err := KVSet("a", make([]byte, 90), 0); err != nil {
		t.Fatal(err)
	}
	if err := KVSet("b", make([]byte, 20), 0); !errors.Is(err, ErrQuota) {
		t.Errorf("over quota: %v", err)
	}
	if err := KVSet("a", make([]byte, 95), 0); err != nil {
		t.Errorf("replacing a value within the quota: %v", err)
	}
}

func TestKVIncr(t *testing.T) {
	registered(t, nil)
	for i := int64(1); i <= 3; i++ {
		if n := KVIncr("c", 1, time.Minute); n != i {
			t.Fatalf("incr %d: %d", i, n)
		}
	}
	if n := KVIncr("c", -10, 0); n != -7 {
		t.Errorf("negative delta: %d", n)
	}
	// The TTL is the one the counter was created with.
	fakehost.Default.Advance(time.Minute)
	if n := KVIncr("c", 1, time.Minute); n != 1 {
		t.Errorf("after the window: %d, want a new counter", n)
	}
	if err := KVSet("s", []byte("not a counter"), 0); err != nil {
		t.Fatal(err)
	}
	if _, err := KVIncrErr("s", 1, 0); !errors.Is(err, ErrInvalid) {
		t.Errorf("incr on a string: %v", err)
	}
	if n := KVIncr("s", 1, 0); n != 0 {
		t.Errorf("KVIncr on error = %d, want 0", n)
	}
	logs := fakehost.Default.Logs()
	if len(logs) != 1 || logs[0].Level != abi.LevelWarn || !strings.Contains(logs[0].Msg, `kv_incr "s"`) {
		t.Errorf("KVIncr logs its error at warn: %v", logs)
	}
	if _, err := KVIncrErr("c", 1, -1); !errors.Is(err, ErrInvalid) {
		t.Errorf("negative ttl: %v", err)
	}
	if n, err := KVIncrErr("sub", 1, time.Microsecond); n != 1 || err != nil {
		t.Errorf("sub-millisecond ttl: %d, %v", n, err)
	}
}

func TestLogAndMetrics(t *testing.T) {
	registered(t, nil)
	Debug("d")
	Info("i")
	Warn("w")
	Error("e")
	Log(Level(7), "dropped: bad level")
	Log(LevelInfo, strings.Repeat("x", abi.MaxLogLineBytes+10))
	logs := fakehost.Default.Logs()
	if len(logs) != 5 {
		t.Fatalf("logs: %v", logs)
	}
	for i, want := range []string{"d", "i", "w", "e"} {
		if logs[i].Msg != want || logs[i].Level != int32(i) {
			t.Errorf("log %d: %+v", i, logs[i])
		}
	}
	if len(logs[4].Msg) != abi.MaxLogLineBytes {
		t.Errorf("long line: %d bytes", len(logs[4].Msg))
	}

	MetricAdd("seen", 2)
	MetricAdd("seen", 3)
	MetricAdd("", 1)
	if m := fakehost.Default.Metrics(); m["seen"] != 5 || len(m) != 1 {
		t.Errorf("metrics: %v", m)
	}
	if s := LevelWarn.String() + Level(9).String(); s != "warnlevel(9)" {
		t.Errorf("Level.String: %s", s)
	}
}

func TestStatusError(t *testing.T) {
	for st, want := range map[int32]error{
		abi.StatusOK: nil, 5: nil,
		abi.StatusNotFound: ErrNotFound, abi.StatusTooLarge: ErrTooLarge, abi.StatusQuota: ErrQuota,
		abi.StatusInvalid: ErrInvalid, abi.StatusUnavailable: ErrUnavailable, abi.StatusWrongKind: ErrWrongKind,
	} {
		if got := statusError(st); got != want {
			t.Errorf("statusError(%d) = %v, want %v", st, got, want)
		}
	}
	if err := statusError(-99); err == nil || !strings.Contains(err.Error(), "-99") {
		t.Errorf("unknown status: %v", err)
	}
}

func TestServices_outsideACall(t *testing.T) {
	registered(t, nil)
	if st := hostOutputSet([]byte(`{}`)); st != abi.StatusWrongKind {
		t.Errorf("output_set outside a call: %d", st)
	}
	if st := hostReasonSet("r"); st != abi.StatusWrongKind {
		t.Errorf("reason_set outside a call: %d", st)
	}
}
