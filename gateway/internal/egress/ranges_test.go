package egress

import "testing"

// The range table is searched first-match, so a row that an earlier, wider
// row holds entirely would never be reached.
func TestRangeTable(t *testing.T) {
	for i, r := range rangeTable {
		if r.prefix != r.prefix.Masked() {
			t.Errorf("row %d: %s is not masked", i, r.prefix)
		}
		if r.reason == "" {
			t.Errorf("row %d: %s has no reason", i, r.prefix)
		}
		if r.embed != nil && !r.prefix.Addr().Is6() {
			t.Errorf("row %d: %s embeds IPv4 but is not IPv6", i, r.prefix)
		}
		for j, earlier := range rangeTable[:i] {
			if earlier.prefix.Bits() <= r.prefix.Bits() && earlier.prefix.Contains(r.prefix.Addr()) {
				t.Errorf("row %d (%s) is unreachable: row %d (%s) holds it", i, r.prefix, j, earlier.prefix)
			}
		}
	}
}
