package store

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestEncodeEvent_roundTrip(t *testing.T) {
	seq := event.NewIDGen(nil).Next()
	tests := []struct {
		name string
		ev   event.Event
	}{
		{"typical", event.Event{ID: "evt_x", Type: "order.created", Source: "shop", Time: t0, Data: []byte(`{"a":1}`)}},
		{"empty fields", event.Event{Time: t0}},
		{"nanoseconds", event.Event{ID: "i", Type: "t", Time: time.Date(2030, 1, 1, 0, 0, 0, 123456789, time.UTC), Data: []byte(`1`)}},
		{"before 1970", event.Event{ID: "i", Type: "t", Time: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC)}},
		{"binary-looking data is kept byte for byte", event.Event{ID: "i", Type: "t", Time: t0, Data: []byte("\x00\xff\x01 \"\\")}},
		{"long fields need multi-byte lengths", event.Event{
			ID: strings.Repeat("i", 255), Type: strings.Repeat("t", 255), Source: strings.Repeat("s", 1024),
			Time: t0, Data: bytes.Repeat([]byte("d"), 70000),
		}},
		{"non-UTC time comes back as the same instant", event.Event{ID: "i", Type: "t", Time: t0.In(time.FixedZone("X", 3600))}},
		{"CloudEvents attributes", event.Event{ID: "i", Type: "t", Source: "/s", Time: t0, Data: []byte(`1`), CloudEvent: []byte(`{"id":"c-1","subject":"x"}`)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := encodeEvent(&tc.ev)
			got, err := decodeEvent(seq, b)
			require.NoError(t, err)
			want := tc.ev
			want.Seq = seq
			requireSameEvent(t, want, got)
			require.Equal(t, time.UTC, got.Time.Location())
		})
	}
}

// Records written before codec version 2 still decode, and an event
// without CloudEvents attributes is still written as version 1, byte for
// byte, so the previous version can read it.
func TestDecodeEvent_version1(t *testing.T) {
	// A record written by the version 1 codec: time 0, id "id", type "a.b",
	// source "s", data {}.
	v1 := []byte("\x01\x00\x02id\x03a.b\x01s\x02{}")
	ev, err := decodeEvent(event.Seq{}, v1)
	require.NoError(t, err)
	requireSameEvent(t, event.Event{ID: "id", Type: "a.b", Source: "s", Time: time.Unix(0, 0), Data: []byte(`{}`)}, ev)
	require.True(t, bytes.Equal(v1, encodeEvent(&ev)), "re-encoded as %q", encodeEvent(&ev))

	ev.CloudEvent = []byte(`{"id":"c"}`)
	require.Equal(t, byte(codecV2), encodeEvent(&ev)[0])
}

func TestDecodeEvent_corrupt(t *testing.T) {
	good := encodeEvent(&event.Event{ID: "id", Type: "type", Source: "src", Time: t0, Data: []byte(`{"k":"v"}`)})
	tests := []struct {
		name string
		b    []byte
	}{
		{"nil", nil},
		{"empty", []byte{}},
		{"unknown version", append([]byte{3}, good[1:]...)},
		{"version only", []byte{codecV1}},
		{"truncated time", good[:2]},
		{"truncated data", good[:len(good)-1]},
		{"length beyond the end", binary.AppendUvarint(binary.AppendVarint([]byte{codecV1}, 0), 1<<40)},
		{"overlong uvarint", append(binary.AppendVarint([]byte{codecV1}, 0), bytes.Repeat([]byte{0xff}, 11)...)},
		{"version 2 without attributes", append([]byte{codecV2}, append(good[1:], 0)...)},
		{"version 2 missing attributes", append([]byte{codecV2}, good[1:]...)},
	}
	for i := 1; i < len(good); i++ {
		tests = append(tests, struct {
			name string
			b    []byte
		}{"prefix", good[:i]})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeEvent(event.Seq{}, tc.b)
			require.True(t, errors.Is(err, errCorrupt), "want errCorrupt, got %v", err)
		})
	}
}

// FuzzDecodeEvent checks that decodeEvent never panics, and that whatever
// it accepts encodes back to a record that decodes to the same event.
func FuzzDecodeEvent(f *testing.F) {
	f.Add(encodeEvent(&event.Event{ID: "id", Type: "a.b", Source: "s", Time: t0, Data: []byte(`{}`)}))
	f.Add(encodeEvent(&event.Event{}))
	f.Add(encodeEvent(&event.Event{ID: "id", Type: "a.b", Time: t0, Data: []byte(`1`), CloudEvent: []byte(`{"id":"x"}`)}))
	f.Add([]byte{codecV1, 0x80})
	f.Add([]byte{codecV1, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := decodeEvent(event.Seq{}, b)
		if err != nil {
			return
		}
		again, err := decodeEvent(event.Seq{}, encodeEvent(&ev))
		require.NoError(t, err, "decoding a re-encoded accepted record")
		requireSameEvent(t, ev, again)
	})
}
