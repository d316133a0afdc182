package event

import (
	"strings"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

func TestPattern_Match(t *testing.T) {
	tests := []struct {
		pattern string
		typ     string
		want    bool
	}{
		{"link.clicked", "link.clicked", true},
		{"link.clicked", "link.created", false},
		{"link.clicked", "link.clicked.twice", false},
		{"link.clicked", "link", false},
		{"link.*", "link.clicked", true},
		{"link.*", "link.created", true},
		{"link.*", "link", false},
		{"link.*", "link.a.b", false},
		{"link.*", "links.clicked", false},
		{"*.clicked", "link.clicked", true},
		{"*.clicked", "button.clicked", true},
		{"*.clicked", "clicked", false},
		{"*", "link", true},
		{"*", "link.clicked", false},
		{"link.>", "link.clicked", true},
		{"link.>", "link.a.b.c", true},
		{"link.>", "link", false},
		{"link.>", "linked.a", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"*.*.>", "a.b", false},
		{"*.*.>", "a.b.c", true},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{"a.*.c", "a..c", false},
		{"link.clicked", "link.clicked.", false},
		{">", "", false},
		{"*", "", false},
		{"Payment-v2.card_charged", "Payment-v2.card_charged", true},
	}
	for _, tc := range tests {
		t.Run(tc.pattern+"~"+tc.typ, func(t *testing.T) {
			p, err := ParsePattern(tc.pattern)
			require.NoError(t, err, "ParsePattern(%q)", tc.pattern)
			require.Equal(t, tc.want, p.Match(tc.typ), "Match")
		})
	}
}

func TestParsePattern_invalid(t *testing.T) {
	for _, p := range []string{
		"", ".", "a.", ".a", "a..b", "link.>.x", "a>", "a*.b", "a.b*", "a b", "a/b",
		">.a", "ü", strings.Repeat("a", MaxTypeLen+1),
	} {
		if _, err := ParsePattern(p); err == nil {
			t.Errorf("ParsePattern(%q) succeeded, want an error", p)
		}
	}
}

func TestPattern_zeroMatchesNothing(t *testing.T) {
	var p Pattern
	require.Equal(t, false, p.Match("a"), "zero pattern")
	var ps Patterns
	require.Equal(t, false, ps.Match("a"), "empty set")
}

func TestParsePatterns(t *testing.T) {
	ps, bad, err := ParsePatterns([]string{"a.*", "b.>"})
	require.NoError(t, err)
	require.Equal(t, -1, bad, "bad index")
	require.Equal(t, true, ps.Match("b.x.y"), "b.x.y")
	require.Equal(t, false, ps.Match("c"), "c")
	require.Equal(t, "a.*,b.>", strings.Join(ps.Strings(), ","), "Strings")
	_, bad, err = ParsePatterns([]string{"a", "b..c", "d"})
	require.Equal(t, 1, bad, "bad index")
	require.Error(t, err)
}

func TestValidateType(t *testing.T) {
	for _, ok := range []string{"a", "link.clicked", "A-b_c.9", strings.Repeat("a", MaxTypeLen)} {
		if err := ValidateType(ok); err != nil {
			t.Errorf("ValidateType(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", ".", "a.", ".a", "a..b", "a b", "a*", "a.>", "é", strings.Repeat("a", MaxTypeLen+1)} {
		if err := ValidateType(bad); err == nil {
			t.Errorf("ValidateType(%q) succeeded", bad)
		}
	}
}

func TestValidateID(t *testing.T) {
	for _, ok := range []string{"a", "order_123", "msg-ABC_1:2", strings.Repeat("x", MaxIDLen)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", "a?b", "a#b", "a%b", "é", "evt_01ABC", ".", "..", "a.b", "\x00", strings.Repeat("x", MaxIDLen+1)} {
		if err := ValidateID(bad); err == nil {
			t.Errorf("ValidateID(%q) succeeded", bad)
		}
	}
}

// matchReference is a straightforward matcher used to check Match.
func matchReference(pattern, typ string) bool {
	ps, ts := strings.Split(pattern, "."), strings.Split(typ, ".")
	for _, s := range ts {
		if s == "" {
			return false
		}
	}
	for i, p := range ps {
		if p == ">" {
			return len(ts) > i
		}
		if i >= len(ts) || (p != "*" && p != ts[i]) {
			return false
		}
	}
	return len(ts) == len(ps)
}

func FuzzPattern_Match(f *testing.F) {
	for _, s := range [][2]string{
		{"link.*", "link.clicked"}, {"link.>", "link.a.b"}, {">", "x"}, {"a.*.c", "a.b.c"},
		{"*.*", "a.b"}, {"a", "a."}, {"a.>", "a."}, {"*", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, pattern, typ string) {
		p, err := ParsePattern(pattern)
		if err != nil {
			return
		}
		require.Equal(t, matchReference(pattern, typ), p.Match(typ), "Match(%q, %q) against the reference", pattern, typ)
	})
}
