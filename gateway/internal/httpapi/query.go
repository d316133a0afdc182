package httpapi

import (
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strings"
)

// params declares the query parameters a route accepts. Every route
// declares its own (most take none), and handle refuses anything else
// before the handler runs, as unknown JSON fields and config keys are
// refused: a typo such as ?sourc= must not pass for a filter that applied.
//
// A parameter takes one value unless it is declared repeatable; a family
// ("config.") accepts every name with that prefix, each with one value.
// The zero value accepts no parameters.
type params struct {
	names      []string
	repeatable []string
	families   []string
}

// query declares single-valued parameters.
func query(names ...string) params { return params{names: names} }

// repeating adds parameters that may be given more than once.
func (p params) repeating(names ...string) params {
	p.repeatable = append(slices.Clip(p.repeatable), names...)
	return p
}

// family adds a prefix that accepts every parameter named with it.
func (p params) family(prefix string) params {
	p.families = append(slices.Clip(p.families), prefix)
	return p
}

// check refuses a malformed query, a parameter the route does not take and
// a single-valued one given more than once, with a 400 naming it. Names are
// checked in sorted order, so the answer does not depend on map order.
func (p params) check(rawQuery string) error {
	if rawQuery == "" {
		return nil
	}
	vs, err := url.ParseQuery(rawQuery)
	if err != nil {
		return badParam("", "malformed query string: %v", err)
	}
	for _, name := range slices.Sorted(maps.Keys(vs)) {
		switch {
		case slices.Contains(p.repeatable, name):
		case slices.Contains(p.names, name) || p.inFamily(name):
			if n := len(vs[name]); n > 1 {
				return badParam(name, "%s: given %d times; it takes one value", name, n)
			}
		default:
			return badParam(name, "unknown query parameter %q; %s", name, p.accepted())
		}
	}
	return nil
}

func (p params) inFamily(name string) bool {
	for _, f := range p.families {
		if strings.HasPrefix(name, f) && len(name) > len(f) {
			return true
		}
	}
	return false
}

// accepted says which parameters the route takes.
func (p params) accepted() string {
	all := slices.Concat(p.names, p.repeatable)
	for _, f := range p.families {
		all = append(all, f+"<key>")
	}
	if len(all) == 0 {
		return "this endpoint takes no query parameters"
	}
	return fmt.Sprintf("this endpoint accepts %s", strings.Join(all, ", "))
}
