package advice

import (
	"context"
	"regexp"
	"slices"
	"sort"
	"strings"

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

// similarPrecedents is the third stage: the precedents most like the question, shown to the
// person, and those whose 참조조문 vote in the statute ranking.
type similarPrecedents struct {
	corpus   *Retriever
	counters *Counters
	heldOut  func(n int32) bool // nil: none
}

func (similarPrecedents) Name() StageName { return StagePrecedents }

func (s similarPrecedents) Run(ctx context.Context, req *Request) error {
	p := req.Params
	shown, voters, match := s.voters(ctx, req.Query(), p.SearchParams, p.PrecedentParams, req.Sizes.Precedents)
	req.Result.Precedents = shown[:min(len(shown), req.Sizes.Precedents)]
	req.PrecedentVoters, req.Match = voters[:min(len(voters), p.VotePrecedents)], match
	return nil
}

// search finds the precedents most like the query (BM25F over title, 판시사항 and 판결요지,
// fused with the nearest precedents in the vector store when the retriever has a dense side),
// optionally filtered.
func (s similarPrecedents) search(ctx context.Context, q Query, sp SearchParams, p PrecedentParams, k int, filter PrecedentFilter) []PrecedentMatch {
	r := s.corpus
	var keep func(int32) bool
	if !filter.empty() {
		keep = func(d int32) bool { return filter.keeps(&r.State.Precedents[d]) }
	}
	if held := s.heldOut; held != nil {
		if inner := keep; inner != nil {
			keep = func(d int32) bool { return !held(d) && inner(d) }
		} else {
			keep = func(d int32) bool { return !held(d) }
		}
	}
	depth := k
	useDense := r.Dense != nil && p.DensePrecedents > 0
	if useDense {
		depth = max(k, sp.DenseDepth)
	}
	lex := hitsToRanked(r.Indexes.Precedents.SearchFiltered(q.Terms, search.Params{K1: sp.K1, Fields: p.PrecedentFields}, depth, keep))
	var dense []ranked
	if useDense {
		dense = r.denseSearch(ctx, s.counters, q, index.KindPrecedent, depth, search.Filter{Court: filter.CourtLevel, CaseType: filter.CaseType, From: filter.From, To: filter.To})
		if s.heldOut != nil {
			dense = slices.DeleteFunc(dense, func(h ranked) bool { return s.heldOut(h.N) })
		}
	}
	hits := fuse(lex, dense, p.DensePrecedents, sp.Fusion, sp.RRFK, k)
	out := make([]PrecedentMatch, len(hits))
	for i, h := range hits {
		out[i] = PrecedentMatch{N: h.N, Precedent: &r.State.Precedents[h.N], Score: h.Score}
	}
	return out
}

// voters finds the precedents whose 참조조문 vote: the whole question's best hits (shown, at
// least atLeast of them), merged with each "[n]" issue's own hits when SplitParts is on; and
// how much of the query the best hit matches.
func (s similarPrecedents) voters(ctx context.Context, q Query, sp SearchParams, p PrecedentParams, atLeast int) (shown, voters []PrecedentMatch, match float32) {
	shown = s.search(ctx, q, sp, p, max(p.VotePrecedents, atLeast), PrecedentFilter{})
	match = s.corpus.precedentMatch(q, shown)
	voters = shown
	if p.SplitParts != 0 {
		voters = s.mergeParts(ctx, q.Text, shown, sp, p, max(p.VotePrecedents, 5))
	}
	return shown, voters, match
}

// partMarkerRe finds the "[1]", "[2]" markers of a multi-issue 판시사항 or question.
var partMarkerRe = regexp.MustCompile(`\[\d+\]`)

// mergeParts searches each marked part of text on its own and merges the hits with the whole
// text's, each list scaled so its best hit has 1: a decision that answers one issue well is as
// good a voter as one that answers all of them loosely.
func (s similarPrecedents) mergeParts(ctx context.Context, text string, whole []PrecedentMatch, sp SearchParams, p PrecedentParams, k int) []PrecedentMatch {
	var parts []string
	for _, part := range partMarkerRe.Split(text, -1) {
		if strings.TrimSpace(part) != "" {
			parts = append(parts, part)
		}
	}
	if len(parts) < 2 {
		return whole // one issue: its search is the whole text's
	}
	var lists [][]PrecedentMatch
	for _, part := range parts {
		lists = append(lists, s.search(ctx, s.corpus.Analyze(part), sp, p, k, PrecedentFilter{}))
	}
	lists = append(lists, whole)
	best := map[int32]PrecedentMatch{}
	for _, list := range lists {
		if len(list) == 0 || list[0].Score <= 0 {
			continue
		}
		top := list[0].Score
		for _, m := range list {
			m.Score /= top
			if old, ok := best[m.N]; !ok || m.Score > old.Score {
				best[m.N] = m
			}
		}
	}
	out := make([]PrecedentMatch, 0, len(best))
	for _, m := range best {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Score > out[j].Score || (out[i].Score == out[j].Score && out[i].N < out[j].N)
	})
	return out[:min(len(out), k*len(lists)/2+1)]
}

// precedentMatch is the best precedent's score over the most the query could score (every term
// saturated): near 1 when a decision says what the query says.
func (r *Retriever) precedentMatch(q Query, precs []PrecedentMatch) float32 {
	if len(precs) == 0 {
		return 0
	}
	var most float32
	for _, t := range q.Terms {
		most += r.Indexes.Precedents.IDF(t.Term) * t.Weight
	}
	if most == 0 {
		return 0
	}
	return min(1, precs[0].Score/most)
}
