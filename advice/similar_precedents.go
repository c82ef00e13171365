package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
)

// PrecedentFilter narrows precedent search; zero values do not filter.
type PrecedentFilter struct {
	CourtLevel string // 대법원, 하급심
	CaseType   string // 민사, 형사, 가사, 일반행정
	From, To   string // 선고일자 range, YYYY-MM-DD, inclusive
}

func (f PrecedentFilter) empty() bool { return f == PrecedentFilter{} }

func (f PrecedentFilter) keeps(p *law.Precedent) bool {
	return (f.CourtLevel == "" || p.CourtLevel == f.CourtLevel) &&
		(f.CaseType == "" || p.CaseType == f.CaseType) &&
		(f.From == "" || p.Date >= f.From) &&
		(f.To == "" || p.Date <= f.To)
}

// PrecedentMatch is a similar precedent.
type PrecedentMatch struct {
	N         int32 // number in the state's precedent list
	Precedent *law.Precedent
	Score     float32
}

// SimilarPrecedents finds the precedents most like the query (BM25F over title, 판시사항 and
// 판결요지, fused with the nearest precedents in the vector store when the retriever has a dense
// side), optionally filtered.
func (r *Retriever) SimilarPrecedents(ctx context.Context, q Query, k int, filter PrecedentFilter) []PrecedentMatch {
	var keep func(int32) bool
	if !filter.empty() {
		keep = func(d int32) bool { return filter.keeps(&r.State.Precedents[d]) }
	}
	p := r.Params
	depth := k
	useDense := r.Dense != nil && p.DensePrecedents > 0
	if useDense {
		depth = max(k, p.DenseDepth)
	}
	lex := hitsToRanked(r.Indexes.Precedents.SearchFiltered(q.Terms, search.Params{K1: p.K1, Fields: p.PrecedentFields}, depth, keep))
	var dense []ranked
	if useDense {
		dense = r.denseSearch(ctx, q, index.KindPrecedent, depth, search.Filter{Court: filter.CourtLevel, CaseType: filter.CaseType, From: filter.From, To: filter.To})
	}
	hits := fuse(lex, dense, p.DensePrecedents, p.Fusion, p.RRFK, k)
	out := make([]PrecedentMatch, len(hits))
	for i, h := range hits {
		out[i] = PrecedentMatch{N: h.N, Precedent: &r.State.Precedents[h.N], Score: h.Score}
	}
	return out
}
