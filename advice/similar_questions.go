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

// similarQuestions is the second stage: the Q&A pairs most like the question, shown to the
// person, and those whose answers vote in the statute ranking.
type similarQuestions struct {
	corpus   *Retriever
	counters *Counters
	heldOut  func(qa int32) bool // nil: none
}

func (similarQuestions) Name() StageName { return StageSimilarQuestions }

func (s similarQuestions) Run(ctx context.Context, req *Request) error {
	p := req.Params
	req.Result.SimilarQuestions, req.QAVoters = s.find(ctx, req.Query(), p.SearchParams, p.QuestionParams,
		req.Sizes.SimilarQuestions, p.VoteQA)
	return nil
}

// find finds the Q&A pairs shown to the person (the first shownK of the fused list: BM25F over
// question and answer, fused with the nearest pairs in the vector store when the retriever has
// a dense side) and those whose answers vote for articles (the first voteK of the lexical list).
// The vote was tuned on lexical neighbours, and on the dev sets the dense side improves the
// list a person reads without improving the vote (README, "Dense retrieval"), so each gets its
// own list from one lexical search.
func (s similarQuestions) find(ctx context.Context, q Query, sp SearchParams, p QuestionParams, shownK, voteK int) (shown, voters []QAMatch) {
	r := s.corpus
	depth := max(shownK, voteK)
	useDense := r.Dense != nil && p.DenseQA > 0
	if useDense {
		depth = max(depth, sp.DenseDepth)
	}
	extra := 0
	if s.heldOut != nil {
		extra = 4 // room for the held-out pairs, which are found first
	}
	lex := s.visible(hitsToRanked(r.Indexes.QA.Search(q.Terms, search.Params{K1: sp.K1, Fields: p.QAFields}, depth+extra)), depth)
	var dense []ranked
	if useDense {
		dense = s.visible(r.denseSearch(ctx, s.counters, q, index.KindQA, depth+extra, search.Filter{}), depth)
	}
	return r.qaMatches(fuse(lex, dense, p.DenseQA, sp.Fusion, sp.RRFK, shownK)), r.qaMatches(lex[:min(voteK, len(lex))])
}

// visible drops the held-out pairs and keeps the first k.
func (s similarQuestions) visible(list []ranked, k int) []ranked {
	if s.heldOut != nil {
		kept := list[:0:0]
		for _, h := range list {
			if !s.heldOut(h.N) {
				kept = append(kept, h)
			}
		}
		list = kept
	}
	return list[:min(k, len(list))]
}

func (r *Retriever) qaMatches(hits []ranked) []QAMatch {
	out := make([]QAMatch, len(hits))
	for i, h := range hits {
		out[i] = QAMatch{N: h.N, QA: &r.State.QA[h.N], Score: h.Score}
	}
	return out
}
