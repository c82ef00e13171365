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

// SimilarQuestions finds the Q&A pairs most like the query (BM25F over question and answer).
func (r *Retriever) SimilarQuestions(q Query, k int) []QAMatch {
	hits := r.Indexes.QA.Search(q.Terms, search.Params{K1: r.Params.K1, Fields: r.Params.QAFields}, k)
	out := make([]QAMatch, len(hits))
	for i, h := range hits {
		out[i] = QAMatch{N: h.Doc, QA: &r.State.QA[h.Doc], Score: h.Score}
	}
	return out
}
