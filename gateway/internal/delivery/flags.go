package delivery

import (
	"strings"
	"unicode/utf8"

	"github.com/eventgw/gateway/gateway/event"
	"github.com/eventgw/gateway/gateway/internal/pipeline"
)

// HeaderFlags lists the reasons filters flagged an event with, in the order
// the filters ran: "<reason>[, <reason>]". It is not part of the signed
// content. Like the webhook-* headers it is written in lower case.
const HeaderFlags = "webhook-flags"

// maxFlagBytes caps one reason in HeaderFlags (before encoding); the whole
// reason stays in GET /v1/events/{id}.
const maxFlagBytes = 256

// outgoing is an event as its deliveries send it: the data after the
// pipeline's global transforms, and the HeaderFlags value of the flags its
// filters raised ("" for none).
type outgoing struct {
	ev    event.Event
	flags string
}

// size is what holding o in a queue costs, for maxFirstBytes.
func (o *outgoing) size() int { return len(o.ev.Data) }

// flagsHeader renders the HeaderFlags value of an event's verdicts: the
// reason of each flag (the plugin's name when it gave none), trimmed, cut
// at maxFlagBytes on a character boundary, and percent-encoded where it is
// not a safe header byte: '%', ',' (the list separator), control bytes
// (CR and LF included) and every byte of a non-ASCII character. Receivers
// split on ',' and percent-decode each entry (sdk/verify.Flags).
func flagsHeader(vs []pipeline.Verdict) string {
	var b strings.Builder
	for _, v := range vs {
		if v.Outcome != pipeline.OutcomeFlag {
			continue
		}
		reason := strings.TrimSpace(v.Reason)
		if reason == "" {
			reason = v.Plugin
		}
		if len(reason) > maxFlagBytes {
			cut := maxFlagBytes
			for cut > 0 && !utf8.RuneStart(reason[cut]) {
				cut--
			}
			reason = reason[:cut]
		}
		if b.Len() > 0 {
			b.WriteString(", ")
		}
		for i := 0; i < len(reason); i++ {
			c := reason[i]
			if c == '%' || c == ',' || c < 0x20 || c >= 0x7f {
				const hex = "0123456789ABCDEF"
				b.Write([]byte{'%', hex[c>>4], hex[c&0xf]})
				continue
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}
