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
//	byte    codec version (1)
//	varint  time, Unix nanoseconds
//	uvarint len ‖ id
//	uvarint len ‖ type
//	uvarint len ‖ source
//	uvarint len ‖ data (raw JSON)
const codecV1 = 1

var errCorrupt = errors.New("store: corrupt event record")

func encodeEvent(ev *event.Event) []byte {
	n := 1 + binary.MaxVarintLen64 + 4*binary.MaxVarintLen32 + len(ev.ID) + len(ev.Type) + len(ev.Source) + len(ev.Data)
	b := make([]byte, 0, n)
	b = append(b, codecV1)
	b = binary.AppendVarint(b, ev.Time.UnixNano())
	for _, f := range [...]string{ev.ID, ev.Type, ev.Source} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = binary.AppendUvarint(b, uint64(len(ev.Data)))
	return append(b, ev.Data...)
}

// decodeEvent decodes b, which must not be modified afterwards: Data aliases
// it. Callers pass a copy of Badger's value.
func decodeEvent(seq event.Seq, b []byte) (event.Event, error) {
	ev := event.Event{Seq: seq}
	if len(b) == 0 || b[0] != codecV1 {
		return ev, errCorrupt
	}
	b = b[1:]
	ns, n := binary.Varint(b)
	if n <= 0 {
		return ev, errCorrupt
	}
	b = b[n:]
	ev.Time = time.Unix(0, ns).UTC()
	var fields [4][]byte
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
	return ev, nil
}
