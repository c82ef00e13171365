package models

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
)

// Filter tells whether a message is a legal question: a logistic regression over hashed
// character n-grams and morphemes (FeatureConfig), with a threshold chosen on held-out data so
// that legal questions are almost never turned away.
type Filter struct {
	space   featureSpace
	weights []float32 // one per hashed feature
	bias    float64
	info    FilterInfo
}

// FilterInfo is what a trained filter records about itself; it is saved with the weights.
type FilterInfo struct {
	Features FeatureConfig `json:"features"`
	// Threshold is the least score Classify accepts as legal.
	Threshold float64        `json:"threshold"`
	HeldOut   FilterMetrics  `json:"held_out"`
	Training  FilterTraining `json:"training"`
	// Short is the unsure band of chat-length messages (zero: none, every message is decided
	// at Threshold).
	Short ShortBand `json:"short,omitempty"`
}

// ShortBand is how a message of at most MaxRunes characters is decided: LEGAL from High up,
// NOT_LEGAL below Low, UNSURE between — LawBot then asks what happened instead of refusing.
// A one-line message carries a few features only, so its score is less sure than a
// paragraph's; the band is chosen on held-out short texts so that at most TargetError of the
// legal ones fall below Low and of the everyday ones reach High.
type ShortBand struct {
	MaxRunes    int     `json:"max_runes"`
	Low         float64 `json:"low"`
	High        float64 `json:"high"`
	TargetError float64 `json:"target_error"`
	// Held-out short texts the band was chosen on, and their outcome shares.
	Legal    int     `json:"legal"`
	NonLegal int     `json:"nonlegal"`
	FRR      float64 `json:"frr"`
	FAR      float64 `json:"far"`
	Unsure   float64 `json:"unsure"`
}

// Decision is the legal check's verdict on one message.
type Decision string

const (
	DecisionLegal    Decision = "LEGAL"
	DecisionNotLegal Decision = "NOT_LEGAL"
	DecisionUnsure   Decision = "UNSURE"
)

// FilterMetrics are error rates at the threshold on texts the filter did not learn from.
type FilterMetrics struct {
	// Legal and NonLegal count the held-out texts of each class.
	Legal    int `json:"legal"`
	NonLegal int `json:"nonlegal"`
	// FRR (false rejection rate) is the share of legal questions rejected, measured on the
	// texts the threshold was chosen on (FilterTraining.ThresholdSources); FAR (false acceptance
	// rate) is the share of non-legal texts accepted.
	FRR float64 `json:"frr"`
	FAR float64 `json:"far"`
	// FRRTexts counts the legal texts FRR is measured on.
	FRRTexts int `json:"frr_texts"`
	// Sources breaks the errors down by where the texts came from.
	Sources []SourceMetrics `json:"sources,omitempty"`
}

// SourceMetrics is the error rate on the held-out texts of one source: rejections for legal
// sources, acceptances for non-legal ones.
type SourceMetrics struct {
	Source string  `json:"source"`
	Legal  bool    `json:"legal"`
	Texts  int     `json:"texts"`
	Errors float64 `json:"error_rate"`
}

// FilterTraining records how the filter was trained, so a run can be reproduced.
type FilterTraining struct {
	Examples         int      `json:"examples"` // trained on
	HeldOut          int      `json:"held_out"`
	Epochs           int      `json:"epochs"`
	LearningRate     float64  `json:"learning_rate"`
	L2               float64  `json:"l2"`
	Seed             uint64   `json:"seed"`
	TargetFRR        float64  `json:"target_frr"`
	ThresholdSources []string `json:"threshold_sources,omitempty"`
}

// Info describes the filter: features, threshold, held-out metrics and training settings.
func (f *Filter) Info() FilterInfo { return f.info }

// Threshold is the least score that Classify accepts as legal.
func (f *Filter) Threshold() float64 { return f.info.Threshold }

// Score is the probability that text is a legal question.
func (f *Filter) Score(text string) float64 {
	return sigmoid(f.margin(f.space.vector(text)))
}

// Bytes is the memory the filter's weights hold (what the residency manager charges it).
func (f *Filter) Bytes() int64 { return int64(len(f.weights)) * 4 }

// Close lets the residency manager release the filter: its weights go to the garbage
// collector with the last reference.
func (f *Filter) Close() error { return nil }

// Classify says whether text is a legal question at the trained threshold, with its score.
func (f *Filter) Classify(text string) (isLegal bool, score float64) {
	score = f.Score(text)
	return score >= f.info.Threshold, score
}

// Decide is the verdict on text with its score: at the threshold, or, for a message no longer
// than the short band's MaxRunes, LEGAL / UNSURE / NOT_LEGAL by the band.
func (f *Filter) Decide(text string) (Decision, float64) {
	score := f.Score(text)
	return f.info.decide(text, score), score
}

// DecideContext is Decide (the filter is in memory: ctx is not needed); it lets the legal check
// ask a loaded filter and an on-demand one alike.
func (f *Filter) DecideContext(_ context.Context, text string) (Decision, float64) {
	return f.Decide(text)
}

func (info FilterInfo) decide(text string, score float64) Decision {
	if b := info.Short; b.MaxRunes > 0 && utf8.RuneCountInString(strings.TrimSpace(text)) <= b.MaxRunes {
		switch {
		case score >= b.High:
			return DecisionLegal
		case score < b.Low:
			return DecisionNotLegal
		}
		return DecisionUnsure
	}
	if score >= info.Threshold {
		return DecisionLegal
	}
	return DecisionNotLegal
}

func (f *Filter) margin(v sparseVector) float64 {
	z := f.bias
	for i, j := range v.idx {
		z += float64(f.weights[j]) * float64(v.val[i])
	}
	return z
}

func sigmoid(z float64) float64 {
	// Split by sign so that exp never overflows.
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// FeatureContribution is one feature's share of a score: its weight times its value in the
// text. Positive pushes towards legal.
type FeatureContribution struct {
	Feature      string  `json:"feature"`
	Contribution float64 `json:"contribution"`
}

// Explain lists the n features of text that moved its score most, strongest first. Features that
// share a hash bucket show under the first name met.
func (f *Filter) Explain(text string, n int) []FeatureContribution {
	v := f.space.vector(text)
	value := make(map[uint32]float32, len(v.idx))
	for i, j := range v.idx {
		value[j] = v.val[i]
	}
	mask := uint32(1)<<f.info.Features.HashBits - 1
	seen := make(map[uint32]bool, len(v.idx))
	var out []FeatureContribution
	f.space.each(text, func(kind byte, a, b string) {
		j := uint32(featureHash(kind, a, b)) & mask
		if seen[j] {
			return
		}
		seen[j] = true
		out = append(out, FeatureContribution{featureName(kind, a, b), float64(f.weights[j]) * float64(value[j])})
	})
	slices.SortStableFunc(out, func(x, y FeatureContribution) int {
		return cmp.Compare(math.Abs(y.Contribution), math.Abs(x.Contribution))
	})
	if n >= 0 && len(out) > n {
		out = out[:n]
	}
	return out
}
