package event

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/eventgw/gateway/gateway/internal/require"
)

// indexOp is one Set (or, with del, Delete) in a table case.
type indexOp struct {
	key, value string
	patterns   []string // "" stands for the zero Pattern
	del        bool
}

func setOp(key string, patterns ...string) indexOp {
	return indexOp{key: key, value: key, patterns: patterns}
}

func deleteOp(key string) indexOp { return indexOp{key: key, del: true} }

// patternsOrZero parses ss, turning "" and every invalid pattern into the
// zero Pattern, which matches nothing.
func patternsOrZero(ss []string) Patterns {
	ps := make(Patterns, len(ss))
	for i, s := range ss {
		ps[i], _ = ParsePattern(s)
	}
	return ps
}

func TestIndex_Match(t *testing.T) {
	tests := []struct {
		name string
		ops  []indexOp
		typ  string
		want []string // nil: Match returns nil
		len  int
	}{
		{name: "empty index", typ: "a"},
		{name: "literal", ops: []indexOp{setOp("a", "order.created")}, typ: "order.created", want: []string{"a"}, len: 1},
		{name: "literal other type", ops: []indexOp{setOp("a", "order.created")}, typ: "order.paid", len: 1},
		{name: "literal longer type", ops: []indexOp{setOp("a", "order.created")}, typ: "order.created.x", len: 1},
		{name: "literal shorter type", ops: []indexOp{setOp("a", "order.created")}, typ: "order", len: 1},
		{name: "star", ops: []indexOp{setOp("a", "order.*")}, typ: "order.paid", want: []string{"a"}, len: 1},
		{name: "star needs a segment", ops: []indexOp{setOp("a", "order.*")}, typ: "order", len: 1},
		{name: "star is one segment", ops: []indexOp{setOp("a", "order.*")}, typ: "order.a.b", len: 1},
		{name: "leading star", ops: []indexOp{setOp("a", "*.paid")}, typ: "invoice.paid", want: []string{"a"}, len: 1},
		{name: "rest one segment", ops: []indexOp{setOp("a", "order.>")}, typ: "order.a", want: []string{"a"}, len: 1},
		{name: "rest many segments", ops: []indexOp{setOp("a", "order.>")}, typ: "order.a.b.c", want: []string{"a"}, len: 1},
		{name: "rest needs a segment", ops: []indexOp{setOp("a", "order.>")}, typ: "order", len: 1},
		{name: "rest alone", ops: []indexOp{setOp("a", ">")}, typ: "x.y.z", want: []string{"a"}, len: 1},
		{name: "stars then rest, too short", ops: []indexOp{setOp("a", "*.*.>")}, typ: "a.b", len: 1},
		{name: "stars then rest", ops: []indexOp{setOp("a", "*.*.>")}, typ: "a.b.c", want: []string{"a"}, len: 1},
		{name: "overlapping patterns of one key", ops: []indexOp{setOp("a", "order.>", "order.paid", "*.paid", ">")}, typ: "order.paid", want: []string{"a"}, len: 1},
		{name: "repeated pattern of one key", ops: []indexOp{setOp("a", "x", "x"), setOp("b", "x")}, typ: "x", want: []string{"a", "b"}, len: 2},
		{name: "ascending key order", ops: []indexOp{setOp("c", "x.*"), setOp("a", "x.y"), setOp("b", ">"), setOp("d", "y")}, typ: "x.y", want: []string{"a", "b", "c"}, len: 4},
		{name: "replace patterns, old type", ops: []indexOp{setOp("a", "x"), setOp("a", "y")}, typ: "x", len: 1},
		{name: "replace patterns, new type", ops: []indexOp{setOp("a", "x"), setOp("a", "y")}, typ: "y", want: []string{"a"}, len: 1},
		{name: "replace value", ops: []indexOp{setOp("a", "x"), {key: "a", value: "a2", patterns: []string{"x"}}}, typ: "x", want: []string{"a2"}, len: 1},
		{name: "delete", ops: []indexOp{setOp("a", "x"), setOp("b", "x"), deleteOp("a")}, typ: "x", want: []string{"b"}, len: 1},
		{name: "delete the only key", ops: []indexOp{setOp("a", "x.>"), deleteOp("a")}, typ: "x.y"},
		{name: "delete a key that is not there", ops: []indexOp{setOp("a", "x"), deleteOp("z")}, typ: "x", want: []string{"a"}, len: 1},
		{name: "delete keeps a shared level", ops: []indexOp{setOp("a", "x.y"), setOp("b", "x.*"), deleteOp("b")}, typ: "x.y", want: []string{"a"}, len: 1},
		{name: "deleted wildcard no longer matches", ops: []indexOp{setOp("a", "x.y"), setOp("b", "x.*"), deleteOp("b")}, typ: "x.z", len: 1},
		{name: "zero pattern", ops: []indexOp{setOp("a", "")}, typ: "a", len: 1},
		{name: "zero pattern beside a real one", ops: []indexOp{setOp("a", "", "a")}, typ: "a", want: []string{"a"}, len: 1},
		{name: "no patterns", ops: []indexOp{setOp("a")}, typ: "a", len: 1},
		{name: "empty type", ops: []indexOp{setOp("a", ">")}, typ: "", len: 1},
		{name: "empty segment", ops: []indexOp{setOp("a", ">")}, typ: "a..b", len: 1},
		{name: "trailing dot", ops: []indexOp{setOp("a", "a.>", "a.*", "*")}, typ: "a.", len: 1},
		{name: "leading dot", ops: []indexOp{setOp("a", ">", "*.a")}, typ: ".a", len: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var ix Index[string]
			for _, op := range tc.ops {
				if op.del {
					ix.Delete(op.key)
				} else {
					ix.Set(op.key, patternsOrZero(op.patterns), op.value)
				}
			}
			for range 2 { // the second call is answered by the cache
				got := ix.Match(tc.typ)
				require.Equal(t, fmt.Sprint(tc.want), fmt.Sprint(got), "Match(%q)", tc.typ)
				require.Equal(t, tc.want == nil, got == nil, "Match(%q) == nil", tc.typ)
			}
			require.Equal(t, tc.len, ix.Len(), "Len")
		})
	}
}

func TestIndex_cacheInvalidated(t *testing.T) {
	var ix Index[string]
	ix.Set("a", patternsOrZero([]string{"invoice.>"}), "a")
	require.Equal(t, "[]", fmt.Sprint(ix.Match("order.paid")), "before Set")

	ix.Set("b", patternsOrZero([]string{"order.*"}), "b")
	require.Equal(t, "[b]", fmt.Sprint(ix.Match("order.paid")), "after Set of a new key")

	ix.Set("b", patternsOrZero([]string{"order.*"}), "b2")
	require.Equal(t, "[b2]", fmt.Sprint(ix.Match("order.paid")), "after Set of a new value")

	ix.Set("a", patternsOrZero([]string{"*.paid"}), "a")
	require.Equal(t, "[a b2]", fmt.Sprint(ix.Match("order.paid")), "after Set of new patterns")

	ix.Delete("b")
	require.Equal(t, "[a]", fmt.Sprint(ix.Match("order.paid")), "after Delete")
}

func TestIndex_cacheBounded(t *testing.T) {
	var ix Index[int]
	ix.Set("k", patternsOrZero([]string{"t.*"}), 1)
	for i := range 3 * indexCacheMax {
		typ := fmt.Sprintf("t.%d", i)
		require.Equal(t, 1, len(ix.Match(typ)), "Match(%q)", typ)
		require.True(t, len(ix.cache) <= indexCacheMax, "cache holds %d types after %d misses", len(ix.cache), i+1)
	}
	for i := range 3 * indexCacheMax { // evicted or not, every answer holds
		require.Equal(t, 1, len(ix.Match(fmt.Sprintf("t.%d", i))), "Match again")
	}
	require.Equal(t, 0, len(ix.Match(strings.Repeat("t.", MaxTypeLen))), "an over-long type")
	_, cached := ix.cache[strings.Repeat("t.", MaxTypeLen)]
	require.False(t, cached, "an over-long type was cached")
}

// indexReference is the linear scan the Index replaces: the sorted keys of
// refs whose patterns match typ.
func indexReference(refs map[string]Patterns, typ string) []string {
	var want []string
	for k, ps := range refs {
		if ps.Match(typ) {
			want = append(want, k)
		}
	}
	slices.Sort(want)
	return want
}

func FuzzIndex_Match(f *testing.F) {
	// The script is ';'-separated operations: "key=p1,p2" sets key to those
	// patterns (an invalid one stands for the zero Pattern), and "key" alone
	// deletes it.
	for _, s := range [][2]string{
		{"a=order.*;b=order.>,*.paid;c=>", "order.paid"},
		{"a=x.y;b=x.*;b;a=x.>", "x.y"},
		{"a=*.*.>;a=a.b", "a.b.c"},
		{"a=x,x;b=;a", "x"},
		{"a=>;b=*;c=a.", "a."},
		{"k=a.*.c,a.>;j=*.b.*", "a.b.c"},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, script, typ string) {
		ops := strings.Split(script, ";")
		if len(ops) > 64 {
			return
		}
		var ix Index[string]
		refs := map[string]Patterns{}
		values := map[string]string{}
		types := []string{typ}
		for i, op := range ops {
			key, list, isSet := strings.Cut(op, "=")
			if isSet {
				raw := strings.Split(list, ",")
				types = append(types, raw...)
				ps := patternsOrZero(raw)
				refs[key], values[key] = ps, fmt.Sprintf("%s#%d", key, i)
				ix.Set(key, ps, values[key])
			} else {
				delete(refs, key)
				ix.Delete(key)
			}
			checkIndex(t, &ix, refs, values, typ)
		}
		for _, typ := range types { // patterns as types hit literal levels
			checkIndex(t, &ix, refs, values, typ)
		}
		require.Equal(t, len(refs), ix.Len(), "Len")
		for k := range refs {
			ix.Delete(k)
		}
		require.True(t, ix.root.empty(), "the trie keeps levels after every key was deleted")
	})
}

// checkIndex fails the test unless ix.Match(typ) holds the values of exactly
// the keys of refs that match typ, in key order.
func checkIndex(t *testing.T, ix *Index[string], refs map[string]Patterns, values map[string]string, typ string) {
	t.Helper()
	var want []string
	for _, k := range indexReference(refs, typ) {
		want = append(want, values[k])
	}
	require.Equal(t, fmt.Sprintf("%q", want), fmt.Sprintf("%q", ix.Match(typ)), "Match(%q)", typ)
}

// hammerValue is what the hammer test stores: the key and its patterns, so
// that a reader can check any result on its own.
type hammerValue struct {
	key      string
	patterns Patterns
}

func TestIndex_hammer(t *testing.T) {
	pool := patternsOrZero([]string{"a.b", "a.*", "a.>", "*.b", ">", "b.c.d", "*.*.d", "b.>", "c"})
	types := []string{"a.b", "a.c", "a.b.c", "b.c.d", "x.b", "b", "c", "a", "x.y.d"}
	const writers, readers, rounds, opsPerRound, keysPerWriter = 2, 2, 10, 300, 16

	var ix Index[hammerValue]
	refs := make([]map[string]Patterns, writers) // writer w owns refs[w] and its keys
	for w := range refs {
		refs[w] = map[string]Patterns{}
	}
	for round := range rounds {
		stop := make(chan struct{})
		var readWG sync.WaitGroup
		for r := range readers {
			readWG.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(100+r)))
				for {
					select {
					case <-stop:
						return
					default:
					}
					typ := types[rng.IntN(len(types))]
					if err := checkHammerResult(typ, ix.Match(typ)); err != nil {
						t.Error(err)
						return
					}
				}
			})
		}
		var writeWG sync.WaitGroup
		for w := range writers {
			writeWG.Go(func() {
				rng := rand.New(rand.NewPCG(uint64(round), uint64(w)))
				for range opsPerRound {
					key := fmt.Sprintf("w%d-k%02d", w, rng.IntN(keysPerWriter))
					if rng.IntN(4) == 0 {
						ix.Delete(key)
						delete(refs[w], key)
						continue
					}
					ps := make(Patterns, 1+rng.IntN(3))
					for i := range ps {
						ps[i] = pool[rng.IntN(len(pool))]
					}
					ix.Set(key, ps, hammerValue{key: key, patterns: ps})
					refs[w][key] = ps
				}
			})
		}
		writeWG.Wait()
		close(stop)
		readWG.Wait()

		// Quiescent: every answer must equal the reference exactly.
		all := map[string]Patterns{}
		for _, ref := range refs {
			for k, ps := range ref {
				all[k] = ps
			}
		}
		require.Equal(t, len(all), ix.Len(), "round %d: Len", round)
		for _, typ := range types {
			var got []string
			for _, v := range ix.Match(typ) {
				got = append(got, v.key)
			}
			require.Equal(t, fmt.Sprint(indexReference(all, typ)), fmt.Sprint(got), "round %d: Match(%q)", round, typ)
		}
	}
}

// checkHammerResult checks what holds of any Match result, whatever Set and
// Delete calls ran beside it: keys ascend strictly, and each matches typ.
func checkHammerResult(typ string, vs []hammerValue) error {
	for i, v := range vs {
		if i > 0 && vs[i-1].key >= v.key {
			return fmt.Errorf("Match(%q): key %q after %q", typ, v.key, vs[i-1].key)
		}
		if !v.patterns.Match(typ) {
			return fmt.Errorf("Match(%q): key %q with patterns %q does not match", typ, v.key, v.patterns.Strings())
		}
	}
	return nil
}

func ExampleIndex() {
	var hooks Index[string] // webhook id -> URL
	hooks.Set("wh_1", Patterns{MustParsePattern("order.*")}, "https://a.example/hook")
	hooks.Set("wh_2", Patterns{MustParsePattern("order.paid"), MustParsePattern("invoice.>")}, "https://b.example/hook")
	fmt.Println(hooks.Match("order.paid"))
	fmt.Println(hooks.Match("invoice.paid.late"))
	hooks.Delete("wh_2")
	fmt.Println(hooks.Match("order.paid"))
	// Output:
	// [https://a.example/hook https://b.example/hook]
	// [https://b.example/hook]
	// [https://a.example/hook]
}

// benchTenants returns n keys, tenant<i>, each with its own two patterns:
// "tenant<i>.order.*" and "tenant<i>.invoice.paid".
func benchTenants(n int) map[string]Patterns {
	keys := make(map[string]Patterns, n)
	for i := range n {
		keys[fmt.Sprintf("tenant%d", i)] = Patterns{
			MustParsePattern(fmt.Sprintf("tenant%d.order.*", i)),
			MustParsePattern(fmt.Sprintf("tenant%d.invoice.paid", i)),
		}
	}
	return keys
}

// benchMissTypes is how many distinct types the cache-miss benchmarks cycle
// through: 16 times the cache, so that a type is evicted long before it
// comes round again.
const benchMissTypes = 16 * indexCacheMax

func BenchmarkIndex_Match(b *testing.B) {
	for _, n := range []int{1, 10_000} {
		tenants := benchTenants(n)
		var ix Index[string]
		for k, ps := range tenants {
			ix.Set(k, ps, k)
		}
		target := fmt.Sprintf("tenant%d", n/2) // the one key that matches
		b.Run(fmt.Sprintf("keys=%d/cache=hit", n), func(b *testing.B) {
			typ := target + ".order.created"
			for b.Loop() {
				if len(ix.Match(typ)) != 1 {
					b.Fatal("want one match")
				}
			}
		})
		b.Run(fmt.Sprintf("keys=%d/cache=miss", n), func(b *testing.B) {
			types := make([]string, benchMissTypes)
			for i := range types {
				types[i] = fmt.Sprintf("%s.order.e%d", target, i)
			}
			i := 0
			for b.Loop() {
				if len(ix.Match(types[i%len(types)])) != 1 {
					b.Fatal("want one match")
				}
				i++
			}
		})
		if n < 2 {
			continue
		}
		b.Run(fmt.Sprintf("keys=%d/linear", n), func(b *testing.B) {
			// What fan-out did before: every key's Patterns.Match, per event.
			keys := make([]string, 0, n)
			for k := range tenants {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			all := make([]Patterns, n)
			for i, k := range keys {
				all[i] = tenants[k]
			}
			typ := target + ".order.created"
			var found []string
			for b.Loop() {
				found = found[:0]
				for i, ps := range all {
					if ps.Match(typ) {
						found = append(found, keys[i])
					}
				}
				if len(found) != 1 {
					b.Fatal("want one match")
				}
			}
		})
	}
}

func BenchmarkIndex_Set(b *testing.B) {
	// Replacing one key's patterns in an index of 10,000 keys: the cost of
	// registering or updating a webhook.
	var ix Index[string]
	for k, ps := range benchTenants(10_000) {
		ix.Set(k, ps, k)
	}
	ps := benchTenants(1)["tenant0"]
	for b.Loop() {
		ix.Set("tenant0", ps, "tenant0")
	}
}
