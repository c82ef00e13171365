package advice

import (
	"context"

	"github.com/lawbot-kr/lawbot/index"
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
// fused with the nearest pairs in the vector store when the retriever has a dense side.
func (r *Retriever) SimilarQuestions(ctx context.Context, q Query, k int) []QAMatch {
	shown, _ := r.questionVoters(ctx, q, k, 0)
	return shown
}

// questionVoters finds the Q&A pairs shown to the person (the first shownK of the fused list)
// and those whose answers vote for articles (the first voteK of the lexical list). The vote was
// tuned on lexical neighbours, and on the dev sets the dense side improves the list a person
// reads without improving the vote (README, "Dense retrieval"), so each gets its own list from
// one lexical search.
func (r *Retriever) questionVoters(ctx context.Context, q Query, shownK, voteK int) (shown, voters []QAMatch) {
	p := r.Params
	depth := max(shownK, voteK)
	useDense := r.Dense != nil && p.DenseQA > 0
	if useDense {
		depth = max(depth, p.DenseDepth)
	}
	lex := hitsToRanked(r.Indexes.QA.Search(q.Terms, search.Params{K1: p.K1, Fields: p.QAFields}, depth))
	var dense []ranked
	if useDense {
		dense = r.denseSearch(ctx, q, index.KindQA, depth, search.Filter{})
	}
	return r.qaMatches(fuse(lex, dense, p.DenseQA, p.Fusion, p.RRFK, shownK)), r.qaMatches(lex[:min(voteK, len(lex))])
}

func (r *Retriever) qaMatches(hits []ranked) []QAMatch {
	out := make([]QAMatch, len(hits))
	for i, h := range hits {
		out[i] = QAMatch{N: h.N, QA: &r.State.QA[h.N], Score: h.Score}
	}
	return out
}
