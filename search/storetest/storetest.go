// Package storetest is the contract every search.Store passes: the embedded HNSW store always,
// the Milvus store whenever a server is reachable. Data is small and nothing sleeps, so the
// suite runs as well against a remote server as in process.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"testing"

	"github.com/lawbot-kr/lawbot/search"
)

// Dim is the dimension of every vector the suite writes; newStore must return a store of it.
const Dim = 8

// Run runs the contract against fresh stores from newStore, one per subtest; newStore closes
// them itself (t.Cleanup) if it wants them closed, the suite closes only the one whose Close
// it tests.
func Run(t *testing.T, newStore func(t *testing.T) search.Store) {
	tests := []struct {
		name string
		fn   func(t *testing.T, s search.Store)
	}{
		{"Empty", testEmpty},
		{"UpsertCount", testUpsertCount},
		{"UpsertReplaces", testUpsertReplaces},
		{"Delete", testDelete},
		{"TopK", testTopK},
		{"KLargerThanStore", testKLarger},
		{"Filters", testFilters},
		{"BadArguments", testBadArguments},
		{"ConcurrentSearchWhileUpserting", testConcurrent},
		{"Cancelled", testCancelled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, newStore(t)) })
	}
}

// unit is the basis vector e_i; mix is a normalised blend, so that inner products with the
// basis vectors are known by construction.
func unit(i int) search.Vector {
	v := make(search.Vector, Dim)
	v[i] = 1
	return v
}

func mix(w ...float64) search.Vector {
	v := make(search.Vector, Dim)
	var n float64
	for i, x := range w {
		v[i] = float32(x)
		n += x * x
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] = float32(float64(v[i]) / n)
	}
	return v
}

func upsert(t *testing.T, s search.Store, rs ...search.Record) {
	t.Helper()
	if err := s.Upsert(context.Background(), rs); err != nil {
		t.Fatalf("Upsert: %v", err)
	}
}

func count(t *testing.T, s search.Store) int {
	t.Helper()
	n, err := s.Count(context.Background())
	if err != nil {
		t.Fatalf("Count: %v", err)
	}
	return n
}

func search_(t *testing.T, s search.Store, q search.Vector, k int, f search.Filter) []search.Match {
	t.Helper()
	ms, err := s.Search(context.Background(), q, k, f)
	if err != nil {
		t.Fatalf("Search(k=%d, %+v): %v", k, f, err)
	}
	return ms
}

func ids(ms []search.Match) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.ID
	}
	return out
}

func wantIDs(t *testing.T, what string, ms []search.Match, want ...string) {
	t.Helper()
	if got := ids(ms); !slices.Equal(got, want) {
		t.Errorf("%s: got %q, want %q", what, got, want)
	}
}

func testEmpty(t *testing.T, s search.Store) {
	if n := count(t, s); n != 0 {
		t.Errorf("Count of a new store = %d, want 0", n)
	}
	if ms := search_(t, s, unit(0), 5, search.Filter{}); len(ms) != 0 {
		t.Errorf("Search of an empty store = %v, want none", ms)
	}
	if ms := search_(t, s, unit(0), 5, search.Filter{Kind: "qa"}); len(ms) != 0 {
		t.Errorf("filtered Search of an empty store = %v, want none", ms)
	}
	if err := s.Delete(context.Background(), []string{"missing"}); err != nil {
		t.Errorf("Delete of an unknown id: %v, want nil", err)
	}
}

func testUpsertCount(t *testing.T, s search.Store) {
	upsert(t, s,
		search.Record{ID: "a", Vector: unit(0), Fields: search.Fields{Kind: "qa"}},
		search.Record{ID: "b", Vector: unit(1), Fields: search.Fields{Kind: "qa"}},
		search.Record{ID: "c", Vector: unit(2), Fields: search.Fields{Kind: "precedent"}},
	)
	if n := count(t, s); n != 3 {
		t.Errorf("Count = %d, want 3", n)
	}
	upsert(t, s, search.Record{ID: "d", Vector: unit(3)})
	if n := count(t, s); n != 4 {
		t.Errorf("Count after a second upsert = %d, want 4", n)
	}
	if err := s.Upsert(context.Background(), nil); err != nil {
		t.Errorf("Upsert of nothing: %v", err)
	}
}

func testUpsertReplaces(t *testing.T, s search.Store) {
	upsert(t, s,
		search.Record{ID: "a", Vector: unit(0), Fields: search.Fields{Kind: "qa", Law: "민법"}},
		search.Record{ID: "b", Vector: unit(1), Fields: search.Fields{Kind: "qa"}},
	)
	upsert(t, s, search.Record{ID: "a", Vector: unit(2), Fields: search.Fields{Kind: "precedent", Law: "형법"}})
	if n := count(t, s); n != 2 {
		t.Errorf("Count after replacing a = %d, want 2", n)
	}
	ms := search_(t, s, unit(2), 1, search.Filter{})
	wantIDs(t, "nearest to a's new vector", ms, "a")
	if len(ms) == 1 {
		if ms[0].Fields.Law != "형법" || ms[0].Fields.Kind != "precedent" {
			t.Errorf("replaced a has fields %+v, want the new ones", ms[0].Fields)
		}
		if math.Abs(float64(ms[0].Score)-1) > 1e-4 {
			t.Errorf("replaced a scores %v against its own vector, want 1", ms[0].Score)
		}
	}
	// The old vector must be gone: nearest to e_0 is now b or a at score 0, not a at 1.
	for _, m := range search_(t, s, unit(0), 2, search.Filter{}) {
		if m.Score > 0.5 {
			t.Errorf("old vector of a still found: %+v", m)
		}
	}
	wantIDs(t, "filter on a's old law", search_(t, s, unit(0), 5, search.Filter{Law: "민법"}))
}

func testDelete(t *testing.T, s search.Store) {
	upsert(t, s,
		search.Record{ID: "a", Vector: unit(0)},
		search.Record{ID: "b", Vector: mix(0.9, 0.1)},
		search.Record{ID: "c", Vector: unit(1)},
	)
	if err := s.Delete(context.Background(), []string{"a", "missing"}); err != nil {
		t.Fatalf("Delete: %v", err)
	}
	if n := count(t, s); n != 2 {
		t.Errorf("Count after deleting a = %d, want 2", n)
	}
	wantIDs(t, "search after deleting a", search_(t, s, unit(0), 3, search.Filter{}), "b", "c")
	// A deleted id can come back.
	upsert(t, s, search.Record{ID: "a", Vector: unit(0)})
	wantIDs(t, "search after re-adding a", search_(t, s, unit(0), 1, search.Filter{}), "a")
	if n := count(t, s); n != 3 {
		t.Errorf("Count after re-adding a = %d, want 3", n)
	}
}

// corpus is ten records whose inner products with e_0 fall strictly from r0 to r9, with
// fields that cut across that order.
func corpus() []search.Record {
	kinds := []string{"qa", "precedent", "statute"}
	courts := []string{"대법원", "하급심"}
	laws := []string{"민법", "형법", "주택임대차보호법"}
	types := []string{"민사", "형사"}
	var rs []search.Record
	for i := range 10 {
		rs = append(rs, search.Record{
			ID:     fmt.Sprintf("r%d", i),
			Vector: mix(float64(10-i), float64(i), 0.5*float64(i%3)),
			Fields: search.Fields{
				Kind:     kinds[i%3],
				Law:      laws[i%3],
				Court:    courts[i%2],
				CaseType: types[(i/2)%2],
				Date:     fmt.Sprintf("20%02d-%02d-15", 10+i, 1+i),
			},
		})
	}
	return rs
}

func testTopK(t *testing.T, s search.Store) {
	rs := corpus()
	upsert(t, s, rs...)
	ms := search_(t, s, unit(0), 4, search.Filter{})
	wantIDs(t, "top 4 by e_0", ms, "r0", "r1", "r2", "r3")
	for i, m := range ms {
		want := float64(rs[i].Vector[0])
		if math.Abs(float64(m.Score)-want) > 1e-4 {
			t.Errorf("%s scores %v, want the inner product %v", m.ID, m.Score, want)
		}
		if m.Fields != rs[i].Fields {
			t.Errorf("%s has fields %+v, want %+v", m.ID, m.Fields, rs[i].Fields)
		}
	}
	wantIDs(t, "top 3 by e_1", search_(t, s, unit(1), 3, search.Filter{}), "r9", "r8", "r7")
}

func testKLarger(t *testing.T, s search.Store) {
	upsert(t, s, corpus()...)
	ms := search_(t, s, unit(0), 50, search.Filter{})
	wantIDs(t, "k=50 of 10", ms, "r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9")
}

func testFilters(t *testing.T, s search.Store) {
	rs := corpus()
	upsert(t, s, rs...)
	tests := []struct {
		name   string
		filter search.Filter
	}{
		{"kind", search.Filter{Kind: "precedent"}},
		{"law", search.Filter{Law: "주택임대차보호법"}},
		{"court", search.Filter{Court: "대법원"}},
		{"case type", search.Filter{CaseType: "형사"}},
		{"from (inclusive)", search.Filter{From: "2013-04-15"}},
		{"to (inclusive)", search.Filter{To: "2013-04-15"}},
		{"date range (inclusive both ends)", search.Filter{From: "2012-03-15", To: "2015-06-15"}},
		{"kind and court", search.Filter{Kind: "qa", Court: "하급심"}},
		{"kind and dates", search.Filter{Kind: "precedent", From: "2011-01-01", To: "2016-12-31"}},
		{"nothing matches", search.Filter{Kind: "qa", Law: "형법"}},
		{"unknown value", search.Filter{Court: "헌법재판소"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var want []string
			for _, r := range rs { // rs is already in score order for e_0
				if tt.filter.Keeps(r.Fields) {
					want = append(want, r.ID)
				}
			}
			ms := search_(t, s, unit(0), 10, tt.filter)
			wantIDs(t, "all matches", ms, want...)
			if len(want) > 2 {
				wantIDs(t, "top 2", search_(t, s, unit(0), 2, tt.filter), want[:2]...)
			}
		})
	}
}

func testBadArguments(t *testing.T, s search.Store) {
	ctx := context.Background()
	upsert(t, s, corpus()...)
	for _, k := range []int{0, -1} {
		if _, err := s.Search(ctx, unit(0), k, search.Filter{}); err == nil {
			t.Errorf("Search with k=%d: no error", k)
		}
	}
	short := make(search.Vector, Dim-1)
	short[0] = 1
	if _, err := s.Search(ctx, short, 3, search.Filter{}); err == nil {
		t.Errorf("Search with a %d-dimensional vector: no error", len(short))
	}
	long := make(search.Vector, Dim+1)
	long[0] = 1
	if err := s.Upsert(ctx, []search.Record{{ID: "x", Vector: long}}); err == nil {
		t.Errorf("Upsert of a %d-dimensional vector: no error", len(long))
	}
	if err := s.Upsert(ctx, []search.Record{{ID: "", Vector: unit(0)}}); err == nil {
		t.Error("Upsert of a record without id: no error")
	}
	if n := count(t, s); n != 10 {
		t.Errorf("Count after refused upserts = %d, want 10", n)
	}
}

// testConcurrent searches from several goroutines while another upserts; run with -race. Every
// search must succeed and return only records that exist.
func testConcurrent(t *testing.T, s search.Store) {
	ctx := context.Background()
	upsert(t, s, corpus()...)
	const writes = 20
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	wg.Go(func() {
		for i := range writes {
			r := search.Record{ID: fmt.Sprintf("w%d", i), Vector: mix(1, 0, 0, float64(i+1)), Fields: search.Fields{Kind: "qa"}}
			if err := s.Upsert(ctx, []search.Record{r}); err != nil {
				errs <- fmt.Errorf("Upsert %s: %w", r.ID, err)
				return
			}
		}
	})
	for g := range 4 {
		wg.Go(func() {
			for i := range writes {
				f := search.Filter{}
				if (g+i)%2 == 1 {
					f.Kind = "qa"
				}
				ms, err := s.Search(ctx, unit((g+i)%4), 5, f)
				if err != nil {
					errs <- fmt.Errorf("Search: %w", err)
					return
				}
				if len(ms) == 0 {
					errs <- errors.New("Search found nothing in a store of at least 10")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := count(t, s); n != 10+writes {
		t.Errorf("Count after concurrent upserts = %d, want %d", n, 10+writes)
	}
}

// testCancelled: a cancelled context fails every call that takes one, with an error that
// matches context.Canceled, and changes nothing.
func testCancelled(t *testing.T, s search.Store) {
	upsert(t, s, corpus()...)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	check := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s with a cancelled context: %v, want an error matching context.Canceled", what, err)
		}
	}
	_, err := s.Search(ctx, unit(0), 3, search.Filter{})
	check("Search", err)
	check("Upsert", s.Upsert(ctx, []search.Record{{ID: "z", Vector: unit(5)}}))
	check("Delete", s.Delete(ctx, []string{"r0"}))
	_, err = s.Count(ctx)
	check("Count", err)
	if n := count(t, s); n != 10 {
		t.Errorf("Count after cancelled writes = %d, want 10", n)
	}
}
