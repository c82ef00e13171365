package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/search"
)

// SearchStatutes finds articles by their own text (BM25F over law, title, text and chapter).
func (r *Retriever) SearchStatutes(text string, k int) []StatuteMatch {
	q := r.Analyze(text)
	hits := r.Indexes.Statutes.Search(q.Terms, search.Params{K1: r.Params.K1, Fields: r.Params.StatuteFields}, k)
	out := make([]StatuteMatch, len(hits))
	for i, h := range hits {
		out[i] = StatuteMatch{N: h.Doc, Statute: &r.State.Statutes[h.Doc], Score: h.Score,
			Reasons: []Reason{{Kind: "lexical", Ref: r.StatuteID(h.Doc), Weight: 1}}}
	}
	return out
}

// SearchPrecedents finds precedents by text, optionally filtered.
func (r *Retriever) SearchPrecedents(ctx context.Context, text string, k int, filter PrecedentFilter) []PrecedentMatch {
	return r.SimilarPrecedents(ctx, r.Analyze(text), k, filter)
}
