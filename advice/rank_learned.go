package advice

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/models"
)

// The learned statute ranker: a linear model over the evidence the ranking already computes for
// each candidate article (RankFeatures), trained pairwise on folds of the corpus (lawbot train
// --only ranker). It replaces the hand-set fusion weights of StatuteParams when loaded; the
// reasons people see stay, each kind's share now its features' contribution to the score.

// RankFeatures name the features of a candidate article, in order.
var RankFeatures = []string{
	"direct",            // the article's own text matching the query (by rank)
	"direct_x_nomatch",  // the same, times how little the best precedent matches the query
	"precedent",         // the similar precedents' citation vote, normalised by the best
	"precedent_x_match", // the same, times how much the best precedent matches the query
	"precedent_voters",  // the share of the voting precedents that cite it
	"qa",                // the similar Q&A answers' citation vote
	"tag",               // the statute tagger's score (0 without a tagger)
	"semantic",          // nearness in the encoder's space (0 without one)
	"cocite",            // co-citation with the strongest candidates
	"law_share",         // the share of all evidence that points into its law
	"popularity",        // ln(1 + precedents citing it) / 10
	"hand",              // the hand weights' score over the best candidate's
	"hand_rank",         // 1 / (1 + its place in the hand ranking / 5)
	"best_vote",         // the strongest single precedent vote for it (before normalising)
	"top3_voters",       // how many of the three most similar precedents cite it, / 3
	"law_named",         // 1 when the query names its law
	"title_overlap",     // the share of its caption's character bigrams found in the query
}

// The reason kind each feature's contribution is shown under.
// The hand features are shown under the hand ranking's own reasons (handReason).
var rankFeatureKind = []string{"lexical", "lexical", "precedent", "precedent", "precedent", "qa", "model", "semantic", "cocited", "law", "popular", "hand", "hand",
	"precedent", "precedent", "law", "lexical"}

// handFeatures fills the features that read the hand ranking: each candidate's hand score over
// the best one's, and its place. cands are in any order; hand holds their hand scores.
func handFeatures(feats [][]float32, hand []float32) {
	var best float32
	for _, h := range hand {
		best = max(best, h)
	}
	order := make([]int, len(hand))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return hand[order[a]] > hand[order[b]] })
	for place, i := range order {
		if best > 0 {
			feats[i][11] = hand[i] / best
		}
		feats[i][12] = 1 / (1 + float32(place)/5)
	}
}

// StatuteCandidate is one candidate article of a ranking with its features (for training and
// evaluating the ranker), and whether it was ranked by the hand weights' score.
type StatuteCandidate struct {
	N        int32
	ID       string
	Features []float32
	Hand     float32 // the hand-weighted score
	Match    float32 // how much of the query the best similar precedent matches (the query's)
}

// StatuteRanker is the learned linear ranker.
type StatuteRanker struct {
	Features []string  `json:"features"`
	Weights  []float32 `json:"weights"`
	// MinMatch gates the ranker: a query whose best similar precedent matches less of it than
	// this (one that reads less like the decisions it learned from than 9 in 10 of its training
	// queries) is ranked by the hand weights.
	MinMatch float32    `json:"min_match"`
	Info     RankerInfo `json:"info"`
}

// RankerInfo records how the ranker was trained and how it did on held-out folds.
type RankerInfo struct {
	Queries    int     `json:"queries"`
	Folds      int     `json:"folds"`
	Pairs      int     `json:"pairs"`
	Epochs     int     `json:"epochs"`
	L2         float64 `json:"l2"`
	Seed       uint64  `json:"seed"`
	HandR10    float64 `json:"hand_recall_at_10"` // mean over held-out folds, same candidates
	HandSD     float64 `json:"hand_recall_at_10_sd"`
	LearnedR10 float64 `json:"learned_recall_at_10"`
	LearnedSD  float64 `json:"learned_recall_at_10_sd"`
	// Gain is the learned ranking's Recall@10 minus the hand weights' on the same fold, mean
	// and standard deviation over folds.
	Gain    float64   `json:"gain"`
	GainSD  float64   `json:"gain_sd"`
	PerFold []float64 `json:"gain_per_fold"`
	// Wins: the learned ranking beat the hand weights on every held-out fold, by more than the
	// gain's spread on average; a service uses it only then.
	Wins bool `json:"wins"`
}

// Score is the ranker's score of one candidate's features.
func (r *StatuteRanker) Score(f []float32) float32 {
	var s float32
	for i, w := range r.Weights {
		if i < len(f) {
			s += w * f[i]
		}
	}
	return s
}

// RankerPath is where the ranker lives in a state directory.
func RankerPath(stateDir string) string { return filepath.Join(models.Dir(stateDir), "ranker.v1.json") }

// Save writes the ranker atomically.
func (r *StatuteRanker) Save(path string) error {
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return atomicfile.WriteFile(path, data)
}

// LoadStatuteRanker reads a ranker, refusing one whose features are not this build's.
func LoadStatuteRanker(path string) (*StatuteRanker, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r StatuteRanker
	if err := json.Unmarshal(data, &r); err != nil {
		return nil, fmt.Errorf("ranker %s: %w", path, err)
	}
	if len(r.Features) != len(RankFeatures) || len(r.Weights) != len(RankFeatures) {
		return nil, fmt.Errorf("ranker %s: %d features, this build has %d; run lawbot train --only ranker", path, len(r.Features), len(RankFeatures))
	}
	for i, f := range r.Features {
		if f != RankFeatures[i] {
			return nil, fmt.Errorf("ranker %s: feature %d is %q, this build's %q; run lawbot train --only ranker", path, i, f, RankFeatures[i])
		}
		if w := r.Weights[i]; math.IsNaN(float64(w)) || math.IsInf(float64(w), 0) {
			return nil, fmt.Errorf("ranker %s: weight %d is %v", path, i, w)
		}
	}
	return &r, nil
}

// features computes a candidate's features from its evidence.
func (r *Retriever) features(e *evidence, a int32, match, lawShare float32, voters int, tagScale float32, q *queryFacts) []float32 {
	f := make([]float32, len(RankFeatures))
	f[0] = e.direct
	f[1] = e.direct * (1 - match)
	f[2] = e.precedent
	f[3] = e.precedent * match
	if voters > 0 {
		f[4] = float32(len(e.precedents)) / float32(voters)
	}
	f[5] = e.qa
	f[6] = e.tag * tagScale
	f[7] = e.semantic
	f[8] = e.cocite
	f[9] = lawShare
	f[10] = float32(math.Log1p(float64(r.cites.citedBy[a]))) / 10
	top3 := 0
	for _, c := range e.precedents {
		f[13] = max(f[13], c.w)
		if q.voterRank[c.n] < 3 {
			top3++
		}
	}
	f[14] = float32(top3) / 3
	law := r.cites.laws[r.cites.lawOf[a]]
	if named, ok := q.lawNamed[law]; ok {
		f[15] = named
	} else {
		if strings.Contains(q.compact, strings.ReplaceAll(law, " ", "")) {
			f[15] = 1
		}
		q.lawNamed[law] = f[15]
	}
	if grams := bigramsOf(r.State.Statutes[a].Title); len(grams) > 0 {
		in := 0
		for _, g := range grams {
			if q.bigrams[g] {
				in++
			}
		}
		f[16] = float32(in) / float32(len(grams))
	}
	return f
}

// queryFacts are what the features read of the query, computed once per ranking.
type queryFacts struct {
	compact   string // the query without spaces
	bigrams   map[string]bool
	voterRank map[int32]int // precedent → its place among the voters
	lawNamed  map[string]float32
}

func newQueryFacts(text string, precs []PrecedentMatch) *queryFacts {
	q := &queryFacts{compact: strings.Join(strings.Fields(text), ""), bigrams: map[string]bool{},
		voterRank: make(map[int32]int, len(precs)), lawNamed: map[string]float32{}}
	for _, g := range bigramsOf(text) {
		q.bigrams[g] = true
	}
	for i, p := range precs {
		if _, ok := q.voterRank[p.N]; !ok {
			q.voterRank[p.N] = i
		}
	}
	return q
}

// bigramsOf are the character bigrams of text with the spaces taken out.
func bigramsOf(text string) []string {
	rs := []rune(strings.Join(strings.Fields(text), ""))
	out := make([]string, 0, max(0, len(rs)-1))
	for i := 0; i+1 < len(rs); i++ {
		out = append(out, string(rs[i:i+2]))
	}
	return out
}
