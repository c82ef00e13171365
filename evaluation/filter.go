package evaluation

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/stats"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
)

// LegalQuestionsFile, in a corpus's eval/ folder, holds the real questions the filter must
// accept (field query); the statute evaluation's question task uses it too.
const LegalQuestionsFile = "statutes_from_question.dev.jsonl"

// NonLegalFile, in a corpus's eval/ folder, holds everyday texts the filter must reject.
const NonLegalFile = "filter_nonlegal.dev.jsonl"

// filterDevItem is one dev text: the non-legal set has `text` and no id, the question set `id`
// and `query`.
type filterDevItem struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Query string `json:"query"`
}

func (it *filterDevItem) Validate() error {
	if strings.TrimSpace(it.Text) == "" && strings.TrimSpace(it.Query) == "" {
		return errors.New("neither text nor query")
	}
	return nil
}

// DevText is a dev text with its class and the id an explanation is asked for by.
type DevText struct {
	ID, Text string
	Legal    bool
}

// ReadDevTexts reads a dev set of texts (field query, else text), all of one class; items
// without an id get "FILE:LINE".
func ReadDevTexts(path string, legal bool) ([]DevText, error) {
	var out []DevText
	line := 0
	err := law.ReadJSONL(path, law.ReadOptions{}, func(it *filterDevItem) error {
		line++
		id, text := it.ID, it.Query
		if text == "" {
			text = it.Text
		}
		if id == "" {
			id = filepath.Base(path) + ":" + strconv.Itoa(line)
		}
		out = append(out, DevText{ID: id, Text: text, Legal: legal})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read dev set: %w", err)
	}
	return out, nil
}

// FilterReport is the legal-question filter's evaluation (lawbot eval --task filter --json).
type FilterReport struct {
	Model     string  `json:"model"`
	Threshold float64 `json:"threshold"`
	// FAR is the share of the non-legal dev texts accepted; FRR the share of the legal questions
	// rejected.
	FAR          float64  `json:"far"`
	FRR          float64  `json:"frr"`
	NonLegal     int      `json:"nonlegal"`
	Legal        int      `json:"legal"`
	FalseAccepts []string `json:"false_accepts"` // ids
	FalseRejects []string `json:"false_rejects"`
	// Unsure lists the texts decided UNSURE (the short band: LawBot asks what happened); they
	// count as neither accepted nor rejected. UnsureRate is their share of all texts.
	Unsure       []string             `json:"unsure"`
	UnsureRate   float64              `json:"unsure_rate"`
	Band         models.ShortBand     `json:"short_band"`
	LatencyP50us float64              `json:"latency_p50_us"`
	LatencyP99us float64              `json:"latency_p99_us"`
	HeldOut      models.FilterMetrics `json:"held_out"`
	NonLegalFile string               `json:"nonlegal_file"`
	LegalFile    string               `json:"legal_file"`
}

// FilterSet is a state's trained filter and the two dev sets it is measured on.
type FilterSet struct {
	Filter *models.Filter
	Path   string // the filter's file
	// Texts are the non-legal texts, then the legal questions.
	Texts                   []DevText
	NonLegalFile, LegalFile string
}

// LoadFilterSet loads the filter of stateDir, with analyzer giving the morpheme analyzer the
// model names, and the two dev sets.
func LoadFilterSet(stateDir string, analyzer func(string) (models.MorphemeAnalyzer, error), nonLegalFile, legalFile string) (*FilterSet, error) {
	path := models.FilterPath(stateDir)
	f, err := models.LoadFilter(path, analyzer)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("no filter model in %s; run lawbot train", stateDir)
	}
	if err != nil {
		return nil, err
	}
	nonLegal, err := ReadDevTexts(nonLegalFile, false)
	if err != nil {
		return nil, err
	}
	legal, err := ReadDevTexts(legalFile, true)
	if err != nil {
		return nil, err
	}
	return &FilterSet{Filter: f, Path: path, Texts: append(nonLegal, legal...), NonLegalFile: nonLegalFile, LegalFile: legalFile}, nil
}

// Text is the dev text with this id, "" when there is none.
func (s *FilterSet) Text(id string) string {
	for _, it := range s.Texts {
		if it.ID == id {
			return it.Text
		}
	}
	return ""
}

// Filter decides every dev text as the legal check does (models.Filter.Decide), reporting the
// filter's FAR on the non-legal texts (decided LEGAL), its FRR on the legal questions (decided
// NOT_LEGAL), the texts left UNSURE, and the latency of one decision. ctx is checked between
// texts.
func Filter(ctx context.Context, s *FilterSet) (FilterReport, error) {
	f := s.Filter
	f.Score("법률 상담 준비") // loads the dictionary, which is not per-query latency
	rep := FilterReport{
		Model: s.Path, Threshold: f.Threshold(), HeldOut: f.Info().HeldOut,
		NonLegalFile: s.NonLegalFile, LegalFile: s.LegalFile,
		FalseAccepts: []string{}, FalseRejects: []string{}, Unsure: []string{}, Band: f.Info().Short,
	}
	latencies := make([]time.Duration, 0, len(s.Texts))
	for _, it := range s.Texts {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		if it.Legal {
			rep.Legal++
		} else {
			rep.NonLegal++
		}
		start := time.Now()
		d, _ := f.Decide(it.Text)
		latencies = append(latencies, time.Since(start))
		switch {
		case d == models.DecisionUnsure:
			rep.Unsure = append(rep.Unsure, it.ID)
		case d == models.DecisionLegal && !it.Legal:
			rep.FalseAccepts = append(rep.FalseAccepts, it.ID)
		case d == models.DecisionNotLegal && it.Legal:
			rep.FalseRejects = append(rep.FalseRejects, it.ID)
		}
	}
	rep.FAR = rate(len(rep.FalseAccepts), rep.NonLegal)
	rep.FRR = rate(len(rep.FalseRejects), rep.Legal)
	rep.UnsureRate = rate(len(rep.Unsure), rep.Legal+rep.NonLegal)
	slices.Sort(latencies)
	rep.LatencyP50us = stats.Percentile(latencies, 0.50).Seconds() * 1e6
	rep.LatencyP99us = stats.Percentile(latencies, 0.99).Seconds() * 1e6
	return rep, nil
}

// FilterExplanation is one dev text's score and the features that decided it.
type FilterExplanation struct {
	Text             DevText
	Score, Threshold float64
	Accepted         bool
	Contributions    []models.FeatureContribution
}

// Explain scores the dev text with this id and lists its n strongest features.
func (s *FilterSet) Explain(id string, n int) (FilterExplanation, error) {
	for _, it := range s.Texts {
		if it.ID != id {
			continue
		}
		accepted, score := s.Filter.Classify(it.Text)
		return FilterExplanation{Text: it, Score: score, Threshold: s.Filter.Threshold(), Accepted: accepted,
			Contributions: s.Filter.Explain(it.Text, n)}, nil
	}
	return FilterExplanation{}, fmt.Errorf("no dev text with id %q (ids are the question set's ids, or FILE:LINE for the non-legal set)", id)
}

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}
