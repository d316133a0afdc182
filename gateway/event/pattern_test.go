package event

import (
	"strings"
	"testing"
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
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tc.pattern, err)
			}
			requireEqual(t, p.Match(tc.typ), tc.want, "Match")
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
	requireEqual(t, p.Match("a"), false, "zero pattern")
	var ps Patterns
	requireEqual(t, ps.Match("a"), false, "empty set")
}

func TestParsePatterns(t *testing.T) {
	ps, bad, err := ParsePatterns([]string{"a.*", "b.>"})
	if err != nil {
		t.Fatal(err)
	}
	requireEqual(t, bad, -1, "bad index")
	requireEqual(t, ps.Match("b.x.y"), true, "b.x.y")
	requireEqual(t, ps.Match("c"), false, "c")
	requireEqual(t, strings.Join(ps.Strings(), ","), "a.*,b.>", "Strings")
	_, bad, err = ParsePatterns([]string{"a", "b..c", "d"})
	requireEqual(t, bad, 1, "bad index")
	if err == nil {
		t.Fatal("want error")
	}
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
	for _, ok := range []string{"a", "order_123", "msg-ABC.1:2", strings.Repeat("x", MaxIDLen)} {
		if err := ValidateID(ok); err != nil {
			t.Errorf("ValidateID(%q): %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a/b", "a?b", "a#b", "a%b", "é", "evt_01ABC", ".", "..", "\x00", strings.Repeat("x", MaxIDLen+1)} {
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
		got := p.Match(typ)
		if want := matchReference(pattern, typ); got != want {
			t.Fatalf("Match(%q, %q) = %v, reference says %v", pattern, typ, got, want)
		}
	})
}
