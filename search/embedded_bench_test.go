package search_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/synthvec"
	"github.com/lawbot-kr/lawbot/search"
)

// BenchmarkEmbeddedSearch times one top-10 search of a 20,000 × 256 clustered store with the
// default options, unfiltered and under filters that keep 1/3 to 1/300 of the records.
// lawbot bench vector measures recall and larger sizes.
func BenchmarkEmbeddedSearch(b *testing.B) {
	benchSearch(b, search.HNSWOptions{})
}

// BenchmarkEmbeddedFilterStrategy runs the same filters forced onto the graph walk and forced
// onto the exact scan: where they cross is what HNSWOptions.ExactScanBelow's default rests on.
func BenchmarkEmbeddedFilterStrategy(b *testing.B) {
	b.Run("walk", func(b *testing.B) { benchSearch(b, search.HNSWOptions{ExactScanBelow: 1}) })
	b.Run("scan", func(b *testing.B) { benchSearch(b, search.HNSWOptions{ExactScanBelow: 1 << 30}) })
}

func benchSearch(b *testing.B, o search.HNSWOptions) {
	const n, dim = 20_000, 256
	set := synthvec.New(dim, 100, 0.5, 1)
	rs := make([]search.Record, n)
	for i := range rs {
		rs[i] = search.Record{ID: fmt.Sprint(i), Vector: set.Next(), Fields: search.Fields{
			Kind:     []string{"qa", "precedent", "statute"}[i%3],
			CaseType: fmt.Sprint(i % 10),
			Court:    fmt.Sprint(i % 50),
			Law:      fmt.Sprint(i % 300),
		}}
	}
	e := build(b, "", rs, o)
	defer e.Close()
	qs := set.Cluster(64)
	for _, bb := range []struct {
		name string
		f    search.Filter
	}{
		{"unfiltered", search.Filter{}},
		{"keep 1 in 3", search.Filter{Kind: "qa"}},
		{"keep 1 in 10", search.Filter{CaseType: "7"}},
		{"keep 1 in 50", search.Filter{Court: "7"}},
		{"keep 1 in 300", search.Filter{Law: "7"}},
	} {
		b.Run(bb.name, func(b *testing.B) {
			ctx := context.Background()
			i := 0
			for b.Loop() {
				if _, err := e.Search(ctx, qs[i%len(qs)], 10, bb.f); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
	}
}
