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

// Params are the settings of the request path's stages: what every search shares, then each
// stage's own. They are embedded, so a setting is named the same (Params.DenseQA) and set by
// the same --param name ("dense_qa=0.5") as before they were split. The defaults were tuned on
// the dev sets only (lawbot eval --task holding|question); no rule is written for a particular
// query.
type Params struct {
	SearchParams
	QuestionParams
	PrecedentParams
	StatuteParams
	AnswerParams
}

// AnswerParams are the generated answer's (used when the pipeline has a generator): how many
// tokens it may write, how it samples, and how long the stage may take.
type AnswerParams struct {
	GenMaxTokens         int     `param:"gen_max_tokens"`
	GenTemperature       float32 `param:"gen_temperature"` // 0: greedy
	GenTopP              float32 `param:"gen_top_p"`
	GenRepetitionPenalty float32 `param:"gen_repetition_penalty"`
	GenTimeoutSeconds    int     `param:"gen_timeout_s"`
}

// SearchParams rank and fuse every search: BM25's saturation and, when the retriever has a
// dense side, how its ranking joins the lexical one.
type SearchParams struct {
	K1 float32 `param:"k1"` // BM25 term-frequency saturation

	// How many candidates the dense side brings, the fusion method (FusionRRF, FusionConvex) and
	// RRF's k.
	DenseDepth int     `param:"dense_depth"`
	Fusion     int     `param:"fusion"`
	RRFK       float32 `param:"rrf_k"`
}

// QuestionParams are the similar-questions stage's: how the Q&A index weighs its fields, how
// many similar answers vote for the articles they cite, and the weight of the vector store's
// ranking in the list shown (0 = lexical only).
type QuestionParams struct {
	QAFields []search.FieldWeight // morpheme field, then its bigram field
	VoteQA   int                  `param:"vote_qa"`
	DenseQA  float32              `param:"dense_qa"`
}

// PrecedentParams are the similar-precedents stage's.
type PrecedentParams struct {
	PrecedentFields []search.FieldWeight
	// VotePrecedents is how many similar precedents vote for the articles they cite.
	VotePrecedents int `param:"vote_precedents"`
	// DensePrecedents is the weight of the vector store's ranking (0 = lexical only).
	DensePrecedents float32 `param:"dense_precedents"`
	// SplitParts searches each "[1] … [2] …" part of a query on its own as well (0 or 1).
	SplitParts int `param:"split_parts"`
}

// StatuteParams are the statute ranking's: the weights of its kinds of evidence.
type StatuteParams struct {
	StatuteFields []search.FieldWeight

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

	// Articles near the query in the trained encoder's space (when its vectors hold them): the
	// weight of that evidence and how many articles count.
	DenseStatutes   float32 `param:"dense_statutes"`
	DenseStatuteTop int     `param:"dense_statute_top"`

	// The statute tagger (when the retriever has one): the weight of its scores beside the
	// other evidence, how many of its best articles count, and how much its own best score
	// scales its weight.
	Tagger           float32 `param:"tagger"`
	TaggerTop        int     `param:"tagger_top"`
	TaggerConfidence float32 `param:"tagger_confidence"`

	// LearnedRanker: 1 ranks with the pipeline's learned ranker when it has one (it is loaded
	// only when it beat these hand weights on held-out folds), 0 with the hand weights above.
	// Off by default: it wins on the corpus's decisions but loses on people's questions (the
	// README's eval section has the figures).
	LearnedRanker int `param:"learned_ranker"`

	// Query expansion of the article search (lay words → legal words): the ExpandTerms
	// morphemes that weigh most (tf × the statute index's idf) in the ExpandQA most similar
	// answers, not already in the question, added to the direct search at ExpandWeight of a
	// question term. 0 terms: off.
	ExpandTerms  int     `param:"expand_terms"`
	ExpandQA     int     `param:"expand_qa"`
	ExpandWeight float32 `param:"expand_weight"`
}

// DefaultParams are the tuned defaults.
func DefaultParams() Params {
	fw := func(w, b float32) search.FieldWeight { return search.FieldWeight{Weight: w, B: b} }
	return Params{
		SearchParams: SearchParams{
			K1:         1.2,
			DenseDepth: 50,
			Fusion:     FusionConvex,
			RRFK:       60,
		},
		QuestionParams: QuestionParams{
			QAFields: []search.FieldWeight{fw(1, 0.75), fw(0.5, 0.75), fw(0.3, 0.75), fw(0.15, 0.75)},
			VoteQA:   10,
			DenseQA:  0.5,
		},
		PrecedentParams: PrecedentParams{
			PrecedentFields: []search.FieldWeight{fw(0.25, 0.5), fw(0.25, 0.5), fw(1, 0.75), fw(0.5, 0.75), fw(0.7, 0.75), fw(0.35, 0.75)},
			VotePrecedents:  20,
			DensePrecedents: 0,
			SplitParts:      1,
		},
		StatuteParams: StatuteParams{
			StatuteFields:    []search.FieldWeight{fw(1, 0.3), fw(0.5, 0.3), fw(2, 0.5), fw(1, 0.5), fw(1, 0.75), fw(0.25, 0.75), fw(0.5, 0.5), fw(0.25, 0.5)},
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
			DenseStatutes:    0,
			DenseStatuteTop:  30,
			Tagger:           0,
			TaggerTop:        30,
			TaggerConfidence: 1,
			LearnedRanker:    0,
			ExpandQA:         3,
			ExpandWeight:     0.3,
		},
		AnswerParams: AnswerParams{
			GenMaxTokens:         192,
			GenTemperature:       0,
			GenTopP:              1,
			GenRepetitionPenalty: 1.15,
			GenTimeoutSeconds:    20, // within the API's 30 s request timeout, with time to compose the fallback
		},
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
	f, ok := paramField(reflect.ValueOf(p).Elem(), name)
	if !ok {
		return fmt.Errorf("unknown parameter %q", name)
	}
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

// paramField finds the field tagged param:"name" in v or in the stage params it embeds.
func paramField(v reflect.Value, name string) (reflect.Value, bool) {
	for i := range v.NumField() {
		f := v.Field(i)
		if v.Type().Field(i).Anonymous && f.Kind() == reflect.Struct {
			if g, ok := paramField(f, name); ok {
				return g, true
			}
			continue
		}
		if tag := v.Type().Field(i).Tag.Get("param"); tag != "" && tag == name {
			return f, true
		}
	}
	return reflect.Value{}, false
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
