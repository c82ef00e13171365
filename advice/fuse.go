package advice

import (
	"context"
	"errors"
	"sort"
	"time"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/search"
)

// Fusion methods for Params.Fusion.
const (
	// FusionRRF ranks by weighted reciprocal rank: (1-w)/(k+lexical rank) + w/(k+dense rank).
	FusionRRF = 0
	// FusionConvex ranks by a convex combination of the scores, each scaled by its list's best:
	// (1-w)·lexical/best lexical + w·dense/best dense; a document missing from a list gets that
	// list's last score.
	FusionConvex = 1
)

// denseStoreTimeout bounds one dense search; past it (or on any store error) the search is
// lexical only.
const denseStoreTimeout = 2 * time.Second

// ranked is one document of a ranked list: its number and score.
type ranked struct {
	N     int32
	Score float32
}

// denseSearch embeds the query (once per query) and returns the k nearest documents of a kind
// passing filter, best first. Nil when the dense side is off, or when ctx ended (the store's
// call ends with it); a store that fails is counted in c and the search goes on lexically.
func (r *Retriever) denseSearch(ctx context.Context, c *Counters, q Query, kind string, k int, filter search.Filter) []ranked {
	if r.Dense == nil || k <= 0 {
		return nil
	}
	vec := r.queryVector(ctx, q)
	if vec == nil {
		return nil
	}
	filter.Kind = kind
	ctx, cancel := context.WithTimeout(ctx, denseStoreTimeout)
	defer cancel()
	matches, err := r.Dense.Store.Search(ctx, vec, k, filter)
	if err != nil {
		if !errors.Is(err, context.Canceled) { // a request that ended is not the store's failure
			c.denseFailed(r.Dense.Backend, err)
			degrade(ctx, DegradedDense, "the vector search failed; the results are lexical only")
		}
		return nil
	}
	out := make([]ranked, 0, len(matches))
	for _, m := range matches {
		if n, ok := index.ParseRecordID(m.ID, kind); ok {
			out = append(out, ranked{n, m.Score})
		}
	}
	return out
}

// fuse merges a lexical and a dense ranking into the top k. The fused order comes from the
// fusion method; the scores handed on stay on the lexical scale (the best fused document gets
// the best lexical score, the rest in proportion), because the statute vote and the answer
// composer read scores relative to the best one, and precedentMatch reads the best one against
// the query's most possible BM25 score. w = 0 or an empty dense list gives the lexical list.
func fuse(lex, dense []ranked, w float32, method int, rrfK float32, k int) []ranked {
	if k <= 0 {
		return nil
	}
	if w <= 0 || len(dense) == 0 || len(lex) == 0 {
		return lex[:min(k, len(lex))]
	}
	fused := map[int32]float32{}
	switch method {
	case FusionConvex:
		lexBest, lexLast := lex[0].Score, lex[len(lex)-1].Score
		denseBest, denseLast := dense[0].Score, dense[len(dense)-1].Score
		if lexBest <= 0 || denseBest <= 0 {
			return lex[:min(k, len(lex))]
		}
		lexOf := make(map[int32]float32, len(lex))
		for _, h := range lex {
			lexOf[h.N] = h.Score
		}
		denseOf := make(map[int32]float32, len(dense))
		for _, h := range dense {
			denseOf[h.N] = h.Score
		}
		score := func(n int32) float32 {
			l, ok := lexOf[n]
			if !ok {
				l = lexLast
			}
			d, ok := denseOf[n]
			if !ok {
				d = denseLast
			}
			return (1-w)*l/lexBest + w*max(d, 0)/denseBest
		}
		for _, h := range lex {
			fused[h.N] = score(h.N)
		}
		for _, h := range dense {
			fused[h.N] = score(h.N)
		}
	default:
		for i, h := range lex {
			fused[h.N] += (1 - w) / (rrfK + float32(i+1))
		}
		for i, h := range dense {
			fused[h.N] += w / (rrfK + float32(i+1))
		}
	}
	out := make([]ranked, 0, len(fused))
	for n, s := range fused {
		out = append(out, ranked{n, s})
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].Score > out[j].Score || (out[i].Score == out[j].Score && out[i].N < out[j].N)
	})
	out = out[:min(k, len(out))]
	if best := out[0].Score; best > 0 {
		scale := lex[0].Score / best
		for i := range out {
			out[i].Score *= scale
		}
	}
	return out
}

func hitsToRanked(hits []search.Hit) []ranked {
	out := make([]ranked, len(hits))
	for i, h := range hits {
		out[i] = ranked{h.Doc, h.Score}
	}
	return out
}
