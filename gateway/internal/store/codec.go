package store

import (
	"encoding/binary"
	"errors"
	"time"

	"github.com/eventgw/gateway/gateway/event"
)

// Event records are a compact binary encoding rather than JSON: encoding one
// is a few appends, and the raw data bytes are stored untouched.
//
//	byte    codec version (1 or 2)
//	varint  time, Unix nanoseconds
//	uvarint len ‖ id
//	uvarint len ‖ type
//	uvarint len ‖ source
//	uvarint len ‖ data (raw JSON)
//	uvarint len ‖ CloudEvents attributes (raw JSON object), version 2 only
//
// An event without CloudEvents attributes is written as version 1, byte for
// byte as before version 2 existed, so a store written by this version is
// still read by the previous one unless it holds CloudEvents attributes.
const (
	codecV1 = 1
	codecV2 = 2
)

var errCorrupt = errors.New("store: corrupt event record")

func encodeEvent(ev *event.Event) []byte {
	n := 1 + binary.MaxVarintLen64 + 5*binary.MaxVarintLen32 + len(ev.ID) + len(ev.Type) + len(ev.Source) + len(ev.Data) + len(ev.CloudEvent)
	b := make([]byte, 0, n)
	version := byte(codecV1)
	if len(ev.CloudEvent) > 0 {
		version = codecV2
	}
	b = append(b, version)
	b = binary.AppendVarint(b, ev.Time.UnixNano())
	for _, f := range [...]string{ev.ID, ev.Type, ev.Source} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Data)))
	b = append(b, ev.Data...)
	if version == codecV2 {
		b = binary.AppendUvarint(b, uint64(len(ev.CloudEvent)))
		b = append(b, ev.CloudEvent...)
	}
	return b
}

// decodeEvent decodes b, which must not be modified afterwards: Data and
// CloudEvent alias it. Callers pass a copy of Badger's value.
func decodeEvent(seq event.Seq, b []byte) (event.Event, error) {
	ev := event.Event{Seq: seq}
	if len(b) == 0 || b[0] != codecV1 && b[0] != codecV2 {
		return ev, errCorrupt
	}
	var all [5][]byte
	fields := all[:4]
	if b[0] == codecV2 {
		fields = all[:5]
	}
	b = b[1:]
	ns, n := binary.Varint(b)
	if n <= 0 {
		return ev, errCorrupt
	}
	b = b[n:]
	ev.Time = time.Unix(0, ns).UTC()
	for i := range fields {
		l, n := binary.Uvarint(b)
		if n <= 0 || uint64(len(b)-n) < l {
			return ev, errCorrupt
		}
		fields[i] = b[n : n+int(l)]
		b = b[n+int(l):]
	}
	ev.ID, ev.Type, ev.Source = string(fields[0]), string(fields[1]), string(fields[2])
	ev.Data = fields[3]
	if len(fields) == 5 {
		if len(fields[4]) == 0 {
			return ev, errCorrupt // version 2 is only written with attributes
		}
		ev.CloudEvent = fields[4]
	}
	return ev, nil
}
