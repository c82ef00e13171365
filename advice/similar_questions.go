package advice

import (
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
)

// QAMatch is a similar real Q&A pair.
type QAMatch struct {
	N     int32 // number in the state's Q&A list
	QA    *law.QA
	Score float32
}

// SimilarQuestions finds the Q&A pairs most like the query: BM25F over question and answer,
// fused with the nearest answers in the vector store when the retriever has a dense side.
func (r *Retriever) SimilarQuestions(q Query, k int) []QAMatch {
	p := r.Params
	depth := k
	if r.Dense != nil && p.DenseQA > 0 {
		depth = max(k, p.DenseDepth)
	}
	lex := hitsToRanked(r.Indexes.QA.Search(q.Terms, search.Params{K1: p.K1, Fields: p.QAFields}, depth))
	var dense []ranked
	if depth > k {
		dense = r.denseSearch(&q, KindQA, depth, search.Filter{})
	}
	hits := fuse(lex, dense, p.DenseQA, p.Fusion, p.RRFK, k)
	out := make([]QAMatch, len(hits))
	for i, h := range hits {
		out[i] = QAMatch{N: h.N, QA: &r.State.QA[h.N], Score: h.Score}
	}
	return out
}
