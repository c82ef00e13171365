package advice

import (
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
// 판결요지), optionally filtered.
func (r *Retriever) SimilarPrecedents(q Query, k int, filter PrecedentFilter) []PrecedentMatch {
	var keep func(int32) bool
	if !filter.empty() {
		keep = func(d int32) bool { return filter.keeps(&r.State.Precedents[d]) }
	}
	hits := r.Indexes.Precedents.SearchFiltered(q.Terms, search.Params{K1: r.Params.K1, Fields: r.Params.PrecedentFields}, k, keep)
	out := make([]PrecedentMatch, len(hits))
	for i, h := range hits {
		out[i] = PrecedentMatch{N: h.Doc, Precedent: &r.State.Precedents[h.Doc], Score: h.Score}
	}
	return out
}
