package evaluation

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/progress"
)

// The learned statute ranker's training and its check on held-out folds: every corpus query's
// candidate articles, with their features, are collected once through the pipeline (the
// decision held out); a pairwise logistic model is trained on the other folds and ranks each
// fold's candidates, beside the hand weights' ranking of the same candidates.

// RankQuery is one query's candidates and gold articles.
type RankQuery struct {
	ID         string
	Candidates []advice.StatuteCandidate
	Gold       map[string]bool
}

// CollectCandidates asks every case through p with its decision held out and keeps the
// ranking's candidates.
func CollectCandidates(ctx context.Context, p *advice.Pipeline, cases []FoldCase, progressTo io.Writer) ([]RankQuery, error) {
	var bar *progress.Bar
	if progressTo != nil {
		bar = progress.New(progressTo, progress.Options{Label: "candidates", Total: int64(len(cases)), Unit: "queries"})
	}
	out := make([]RankQuery, 0, len(cases))
	for i, c := range cases {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		held := c.heldOut(p)
		held.StatuteRanker = nil
		var got []advice.StatuteCandidate
		held.StatuteCandidates = func(cs []advice.StatuteCandidate) { got = cs }
		if _, err := held.Advise(ctx, c.Query, nil); err != nil {
			return nil, fmt.Errorf("%s: %w", c.ID, err)
		}
		gold := map[string]bool{}
		for _, g := range c.Gold {
			gold[g] = true
		}
		out = append(out, RankQuery{ID: c.ID, Candidates: got, Gold: gold})
		if bar != nil {
			bar.Update(int64(i+1), int64(i+1))
		}
	}
	if bar != nil {
		bar.Finish()
	}
	return out, nil
}

// RankerOptions tune the pairwise training.
type RankerOptions struct {
	Epochs       int
	LearningRate float64
	L2           float64
	// Negatives is how many of the hand ranking's best non-gold candidates pair with each gold
	// one, and GoldDepth how deep in the hand ranking a gold one may be to pair: the mistakes
	// that move Recall@10 are around the top, and a gold article far down would pull the
	// weights towards whatever lifts it, at the top's expense.
	Negatives int
	GoldDepth int
	Seed      uint64
}

// DefaultRankerOptions are lawbot train --only ranker's.
func DefaultRankerOptions() RankerOptions {
	return RankerOptions{Epochs: 20, LearningRate: 0.01, L2: 0.03, Negatives: 15, GoldDepth: 40, Seed: 1}
}

type pair struct{ pos, neg []float32 }

// rankPairs builds the (gold, non-gold) pairs of the queries.
func rankPairs(queries []RankQuery, idx []int, negatives, goldDepth int) []pair {
	var out []pair
	for _, i := range idx {
		q := queries[i]
		cs := slices.Clone(q.Candidates)
		slices.SortFunc(cs, func(a, b advice.StatuteCandidate) int {
			if a.Hand != b.Hand {
				if a.Hand > b.Hand {
					return -1
				}
				return 1
			}
			return int(a.N - b.N)
		})
		var negs [][]float32
		for _, c := range cs {
			if !q.Gold[c.ID] && len(negs) < negatives {
				negs = append(negs, c.Features)
			}
		}
		for place, c := range cs {
			if q.Gold[c.ID] && (goldDepth <= 0 || place < goldDepth) {
				for _, n := range negs {
					out = append(out, pair{c.Features, n})
				}
			}
		}
	}
	return out
}

// TrainRanker fits the linear ranker on the queries idx: pairwise logistic loss on the
// difference of a gold and a non-gold candidate's features, plain SGD with L2, starting from
// zero weights.
func TrainRanker(queries []RankQuery, idx []int, opt RankerOptions) ([]float32, int) {
	pairs := rankPairs(queries, idx, opt.Negatives, opt.GoldDepth)
	nf := len(advice.RankFeatures)
	w := make([]float64, nf)
	rng := rand.New(rand.NewPCG(opt.Seed, opt.Seed^0x7a4c))
	order := make([]int, len(pairs))
	for i := range order {
		order[i] = i
	}
	for range opt.Epochs {
		rng.Shuffle(len(order), func(a, b int) { order[a], order[b] = order[b], order[a] })
		for _, k := range order {
			p := pairs[k]
			var z float64
			for j := range nf {
				z += w[j] * float64(p.pos[j]-p.neg[j])
			}
			g := -1 / (1 + math.Exp(z)) // d/dz log(1+e^-z)
			for j := range nf {
				w[j] -= opt.LearningRate * (g*float64(p.pos[j]-p.neg[j]) + opt.L2*w[j])
			}
		}
	}
	out := make([]float32, nf)
	for j := range w {
		out[j] = float32(w[j])
	}
	return out, len(pairs)
}

// recallAt10 is the mean Recall@10 of the queries idx ranked by score.
func recallAt10(queries []RankQuery, idx []int, score func(advice.StatuteCandidate) float32) float64 {
	var sum float64
	for _, i := range idx {
		q := queries[i]
		cs := slices.Clone(q.Candidates)
		slices.SortFunc(cs, func(a, b advice.StatuteCandidate) int {
			sa, sb := score(a), score(b)
			if sa != sb {
				if sa > sb {
					return -1
				}
				return 1
			}
			return int(a.N - b.N)
		})
		found := 0
		for _, c := range cs[:min(10, len(cs))] {
			if q.Gold[c.ID] {
				found++
			}
		}
		sum += float64(found) / float64(len(q.Gold))
	}
	return sum / float64(max(1, len(idx)))
}

// CrossValidateRanker trains on all folds but one and measures the held-out fold, for each
// fold: the hand weights' Recall@10 and the learned one's over the same candidates.
func CrossValidateRanker(queries []RankQuery, folds int, opt RankerOptions) (hand, learned []float64) {
	folds = max(2, min(folds, len(queries)))
	for f := range folds {
		var train, test []int
		for i := range queries {
			if i%folds == f {
				test = append(test, i)
			} else {
				train = append(train, i)
			}
		}
		w, _ := TrainRanker(queries, train, opt)
		m := &advice.StatuteRanker{Weights: w, MinMatch: MinMatch(queries, train)}
		hand = append(hand, recallAt10(queries, test, func(c advice.StatuteCandidate) float32 { return c.Hand }))
		learned = append(learned, recallAt10(queries, test, func(c advice.StatuteCandidate) float32 {
			if c.Match < m.MinMatch { // the gate, as the pipeline applies it
				return c.Hand
			}
			return m.Score(c.Features)
		}))
	}
	return hand, learned
}

// MinMatch is the ranker's gate: the match that 9 in 10 of the queries idx reach (how much of
// each the best similar precedent matches).
func MinMatch(queries []RankQuery, idx []int) float32 {
	var ms []float32
	for _, i := range idx {
		if cs := queries[i].Candidates; len(cs) > 0 {
			ms = append(ms, cs[0].Match)
		}
	}
	if len(ms) == 0 {
		return 0
	}
	slices.Sort(ms)
	return ms[len(ms)/10]
}

// MeanSD is the mean and standard deviation of xs.
func MeanSD(xs []float64) (mean, sd float64) {
	if len(xs) == 0 {
		return 0, 0
	}
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	for _, x := range xs {
		sd += (x - mean) * (x - mean)
	}
	return mean, math.Sqrt(sd / float64(len(xs)))
}
