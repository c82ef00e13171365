package advice

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/search"
)

// Params are the retrieval and fusion weights. The defaults were tuned on the dev sets only
// (lawbot eval --task holding|question); no rule is written for a particular query.
type Params struct {
	K1 float32 `param:"k1"` // BM25 term-frequency saturation

	// Field weights of each index (morpheme field, then its bigram field).
	StatuteFields   []search.FieldWeight
	PrecedentFields []search.FieldWeight
	QAFields        []search.FieldWeight

	// How many similar precedents and Q&A pairs vote for the articles they cite.
	VotePrecedents int `param:"vote_precedents"`
	VoteQA         int `param:"vote_qa"`
	// A voter's weight is (its score / the best score)^Sharpness.
	Sharpness float32 `param:"sharpness"`

	// Fusion weights of the evidence kinds.
	Direct    float32 `param:"direct"`     // the article's own BM25 score, normalised by the best
	Precedent float32 `param:"precedent"`  // citation vote of similar precedents
	QA        float32 `param:"qa"`         // citation vote of similar Q&A answers
	CoCite    float32 `param:"cocite"`     // co-citation with the top articles
	LawPrior  float32 `param:"law_prior"`  // share of the evidence that points at the article's law
	DirectTop int     `param:"direct_top"` // articles taken from direct search
	// Popularity divides a vote by (1+ln(1+times the article is cited))^Popularity, so that
	// articles cited everywhere (민법 제750조) do not win on frequency alone.
	Popularity float32 `param:"popularity"`
	// Spread divides a voter's weight by (number of articles it cites)^Spread.
	Spread float32 `param:"spread"`
	// DirectDecay, when positive, scores direct hits by rank, 1/(1+rank/DirectDecay), instead of
	// by their BM25 score relative to the best.
	DirectDecay float32 `param:"direct_decay"`
	// Confidence scales the precedent vote by (c/0.25)^Confidence and the direct search by
	// ((1−c)/0.75)^Confidence, where c is how much of the query the best precedent matches
	// (its BM25 score over the most the query could score): a question that reads like a
	// decision leans on the decisions, a plain-language one on the articles' own text.
	Confidence float32 `param:"confidence"`
	// QALaw weighs the laws that similar Q&A answers name (without an article) in the law-level
	// evidence, relative to the articles' own evidence.
	QALaw float32 `param:"qa_law"`
	// SplitParts searches each "[1] … [2] …" part of a query on its own as well (0 or 1).
	SplitParts int `param:"split_parts"`

	// The dense side (when the retriever has one): the weight of the vector store's ranking in
	// the fused similar-question and similar-precedent lists (0 = lexical only), how many
	// candidates each side brings, the fusion method (FusionRRF, FusionConvex) and RRF's k.
	DenseQA         float32 `param:"dense_qa"`
	DensePrecedents float32 `param:"dense_precedents"`
	DenseDepth      int     `param:"dense_depth"`
	Fusion          int     `param:"fusion"`
	RRFK            float32 `param:"rrf_k"`

	// The statute tagger (when the retriever has one): the weight of its scores beside the
	// other evidence, and how many of its best articles count.
	// Articles near the query in the trained encoder's space (when its vectors hold them): the
	// weight of that evidence and how many articles count.
	DenseStatutes   float32 `param:"dense_statutes"`
	DenseStatuteTop int     `param:"dense_statute_top"`

	Tagger           float32 `param:"tagger"`
	TaggerTop        int     `param:"tagger_top"`
	TaggerConfidence float32 `param:"tagger_confidence"`
}

// DefaultParams are the tuned defaults.
func DefaultParams() Params {
	fw := func(w, b float32) search.FieldWeight { return search.FieldWeight{Weight: w, B: b} }
	return Params{
		K1:               1.2,
		StatuteFields:    []search.FieldWeight{fw(1, 0.3), fw(0.5, 0.3), fw(2, 0.5), fw(1, 0.5), fw(1, 0.75), fw(0.25, 0.75), fw(0.5, 0.5), fw(0.25, 0.5)},
		PrecedentFields:  []search.FieldWeight{fw(0.25, 0.5), fw(0.25, 0.5), fw(1, 0.75), fw(0.5, 0.75), fw(0.7, 0.75), fw(0.35, 0.75)},
		QAFields:         []search.FieldWeight{fw(1, 0.75), fw(0.5, 0.75), fw(0.3, 0.75), fw(0.15, 0.75)},
		VotePrecedents:   20,
		VoteQA:           10,
		Sharpness:        3,
		Direct:           0.3,
		Precedent:        1,
		QA:               0,
		CoCite:           0.1,
		LawPrior:         0.2,
		DirectTop:        50,
		Popularity:       0,
		Spread:           0.5,
		DirectDecay:      2,
		Confidence:       1,
		QALaw:            1,
		SplitParts:       1,
		DenseQA:          0.5,
		DensePrecedents:  0,
		DenseDepth:       50,
		Fusion:           FusionConvex,
		RRFK:             60,
		DenseStatutes:    0,
		DenseStatuteTop:  30,
		Tagger:           0,
		TaggerTop:        30,
		TaggerConfidence: 1,
	}
}

// Set changes one named parameter ("vote_precedents=20"), for tuning from the command line.
func (p *Params) Set(assignment string) error {
	name, value, ok := strings.Cut(assignment, "=")
	if !ok {
		return fmt.Errorf("parameter %q: want name=value", assignment)
	}
	if prefix, field, ok := strings.Cut(name, "."); ok {
		return p.setField(prefix, field, value)
	}
	v := reflect.ValueOf(p).Elem()
	for i := range v.NumField() {
		if tag := v.Type().Field(i).Tag.Get("param"); tag == "" || tag != name {
			continue
		}
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Float32:
			x, err := strconv.ParseFloat(value, 32)
			if err != nil {
				return fmt.Errorf("parameter %s: %w", name, err)
			}
			f.SetFloat(x)
		case reflect.Int:
			x, err := strconv.Atoi(value)
			if err != nil {
				return fmt.Errorf("parameter %s: %w", name, err)
			}
			f.SetInt(int64(x))
		}
		return nil
	}
	return fmt.Errorf("unknown parameter %q", name)
}

// setField sets a field weight ("pf.holding=1.5") or its length normalisation ("pf.holding.b=0.5")
// of the statute (sf), precedent (pf) or Q&A (qf) index.
func (p *Params) setField(prefix, field, value string) error {
	var names []string
	var weights *[]search.FieldWeight
	statutes, precedents, qa := index.Fields()
	switch prefix {
	case "sf":
		names, weights = statutes, &p.StatuteFields
	case "pf":
		names, weights = precedents, &p.PrecedentFields
	case "qf":
		names, weights = qa, &p.QAFields
	default:
		return fmt.Errorf("unknown parameter group %q (sf, pf, qf)", prefix)
	}
	field, isB := strings.CutSuffix(field, ".b")
	i := slices.Index(names, field)
	if i < 0 {
		return fmt.Errorf("unknown field %q of %s (%s)", field, prefix, strings.Join(names, ", "))
	}
	x, err := strconv.ParseFloat(value, 32)
	if err != nil {
		return fmt.Errorf("parameter %s.%s: %w", prefix, field, err)
	}
	// Copy first: the defaults' slices are shared by every Params value.
	*weights = slices.Clone(*weights)
	if isB {
		(*weights)[i].B = float32(x)
	} else {
		(*weights)[i].Weight = float32(x)
	}
	return nil
}
