package delivery

import (
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/pipeline"
	"github.com/eventgw/gateway/gateway/internal/require"
	"github.com/eventgw/gateway/sdk/verify"
)

func TestFlagsHeader(t *testing.T) {
	long := strings.Repeat("a", maxFlagBytes-1) + "é and more"
	for _, tc := range []struct {
		name string
		vs   []pipeline.Verdict
		want string
	}{
		{"no verdicts", nil, ""},
		{"no flags", []pipeline.Verdict{{Plugin: "a", Outcome: pipeline.OutcomeAllow}, {Plugin: "b", Outcome: pipeline.OutcomeReplace}}, ""},
		{
			"flags in order, other verdicts left out",
			[]pipeline.Verdict{
				{Plugin: "fraud", Outcome: pipeline.OutcomeFlag, Reason: "large amount 20000"},
				{Plugin: "geo", Outcome: pipeline.OutcomeAllow},
				{Plugin: "velocity", Outcome: pipeline.OutcomeFlag, Reason: "  3, limit 2\r\nX-Injected: 1 "},
			},
			"large amount 20000, 3%2C limit 2%0D%0AX-Injected: 1",
		},
		{"no reason: the plugin's name", []pipeline.Verdict{{Plugin: "tagger", Outcome: pipeline.OutcomeFlag}}, "tagger"},
		{"percent, tab, DEL and UTF-8", []pipeline.Verdict{{Plugin: "p", Outcome: pipeline.OutcomeFlag, Reason: "100%\tCafé\x7f"}}, "100%25%09Caf%C3%A9%7F"},
		{"cut on a character boundary", []pipeline.Verdict{{Plugin: "p", Outcome: pipeline.OutcomeFlag, Reason: long}}, strings.Repeat("a", maxFlagBytes-1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := flagsHeader(tc.vs)
			require.Equal(t, tc.want, got)
			for i := 0; i < len(got); i++ {
				require.True(t, got[i] >= 0x20 && got[i] < 0x7f, "byte %#x at %d is not a visible ASCII byte: %q", got[i], i, got)
			}
		})
	}
}

// TestFlagsHeader_roundTrip checks the gateway's encoding against the
// receivers' decoder, sdk/verify.Flags.
func TestFlagsHeader_roundTrip(t *testing.T) {
	reasons := []string{"velocity: 3, 4", "line\r\nbreak", "100% sure", "Café ✓", "%2C stays literal"}
	vs := make([]pipeline.Verdict, len(reasons))
	for i, r := range reasons {
		vs[i] = pipeline.Verdict{Plugin: "p", Outcome: pipeline.OutcomeFlag, Reason: r}
	}
	h := map[string][]string{HeaderFlags: {flagsHeader(vs)}}
	got := verify.Flags(h)
	require.Equal(t, strings.Join(reasons, "|"), strings.Join(got, "|"))
}
