package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/search"
)

// SearchStatutes finds articles by their own text (BM25F over law, title, text and chapter),
// with the pipeline's settings.
func (p *Pipeline) SearchStatutes(_ context.Context, text string, k int) []StatuteMatch {
	r := p.Retriever
	q := r.Analyze(text)
	hits := r.Indexes.Statutes.Search(q.Terms, search.Params{K1: p.Params.K1, Fields: p.Params.StatuteFields}, k)
	out := make([]StatuteMatch, len(hits))
	for i, h := range hits {
		out[i] = StatuteMatch{N: h.Doc, Statute: &r.State.Statutes[h.Doc], Score: h.Score,
			Reasons: []Reason{{Kind: "lexical", Ref: r.StatuteID(h.Doc), Weight: 1}}}
	}
	return out
}

// SearchPrecedents finds precedents by text, optionally filtered, as the similar-precedents
// stage does.
func (p *Pipeline) SearchPrecedents(ctx context.Context, text string, k int, filter PrecedentFilter) []PrecedentMatch {
	s := similarPrecedents{corpus: p.Retriever, counters: p.counters()}
	return s.search(ctx, p.Retriever.Analyze(text), p.Params.SearchParams, p.Params.PrecedentParams, k, filter)
}
