package evaluation

import (
	"context"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// The answer evaluation: real questions of qa.jsonl, each asked with its own pair held out of
// the search (the answer comes from the rest), the answer compared with the expert's text and
// with the articles the expert cites. Few pairs left in the corpus cite articles (the dev set
// took most of them), so the citation figures are over the pairs that do, and the dev set of
// questions with their experts' articles (no expert text) serves as the final check. Items are
// split into folds; each metric is reported as the mean over folds ± their standard deviation.

// AnswerItem is one question to answer: a held-out Q&A pair, or a dev-set question.
type AnswerItem struct {
	QA       int32 // the held-out pair; -1 for a dev-set question
	Question string
	Expert   string          // the expert answer; "" when there is none to compare with
	Gold     map[string]bool // the articles the expert cites (in the corpus)
}

// AnswerItems picks n of the corpus's Q&A pairs (all when n ≤ 0) in a seeded random order,
// with the articles of the corpus each expert answer cites as gold.
func AnswerItems(st *state.State, parser *law.CitationParser, n int, seed uint64) []AnswerItem {
	items := make([]AnswerItem, len(st.QA))
	for i := range st.QA {
		qa := &st.QA[i]
		gold := map[string]bool{}
		for _, c := range parser.Parse(qa.Answer) {
			if a, ok := st.Statute(c.ID()); ok {
				gold[a.ID()] = true
			}
		}
		items[i] = AnswerItem{QA: int32(i), Question: qa.Question, Expert: qa.Answer, Gold: gold}
	}
	return sample(items, n, rand.New(rand.NewPCG(seed, seed^0x5eed)))
}

// DevAnswerItems are a statute dev set's questions with their gold articles (the final check:
// read once, never tuned on).
func DevAnswerItems(cases []StatuteCase) []AnswerItem {
	items := make([]AnswerItem, len(cases))
	for i, c := range cases {
		gold := map[string]bool{}
		for _, g := range c.Gold {
			gold[g] = true
		}
		items[i] = AnswerItem{QA: -1, Question: c.Query, Gold: gold}
	}
	return items
}

// AnswerScore is one answer measured against its expert answer.
type AnswerScore struct {
	Generator string `json:"generator"`
	Fallback  string `json:"fallback,omitempty"`
	HasGold   bool   `json:"has_gold"`   // the expert cites articles: the citation figures count
	HasExpert bool   `json:"has_expert"` // there is an expert text: the overlap figures count
	// CitesGold: the answer cites (resolved) at least one article the expert answer cites.
	CitesGold bool `json:"cites_gold"`
	Cited     int  `json:"cited"`      // resolved citations
	CitedGold int  `json:"cited_gold"` // of them, cited by the expert too
	// UnflaggedWrong counts citations shown as checked that are not in the corpus or, in a
	// generated answer, not among the evidence: it must be 0.
	UnflaggedWrong int     `json:"unflagged_wrong"`
	RougeL         float64 `json:"rouge_l"`
	BigramF1       float64 `json:"bigram_f1"`
	Echo           bool    `json:"prompt_echo"`
	FirstToken     float64 `json:"first_token_ms,omitempty"`
	TokensPerSec   float64 `json:"tokens_per_s,omitempty"`
	Seconds        float64 `json:"seconds"`
}

// ScoreAnswer measures answer a against the expert's text and gold articles.
func ScoreAnswer(st *state.State, a *advice.Answer, expert string, gold map[string]bool) AnswerScore {
	s := AnswerScore{Generator: a.Generator, Fallback: a.Fallback, Echo: a.Fallback == advice.FallbackEcho,
		HasGold: len(gold) > 0, HasExpert: expert != ""}
	for _, c := range a.Citations {
		if !c.Resolved {
			continue
		}
		_, inCorpus := st.Statute(c.ID)
		if !inCorpus || (a.Evidence != nil && !a.Evidence[c.ID]) {
			s.UnflaggedWrong++
			continue
		}
		s.Cited++
		if gold[c.ID] {
			s.CitedGold++
		}
	}
	s.CitesGold = s.CitedGold > 0
	if s.HasExpert {
		s.RougeL = RougeL(a.Text, expert)
		s.BigramF1 = BigramF1(a.Text, expert)
	}
	if g := a.Generation; g != nil {
		s.FirstToken = float64(g.FirstToken.Microseconds()) / 1000
		s.TokensPerSec = g.TokensPerSecond()
	}
	return s
}

// AnswerMetrics are one fold's (or the mean's, or the spread's) figures.
type AnswerMetrics struct {
	Answers        int     `json:"answers"`
	WithGold       int     `json:"with_gold"`          // answers whose expert cites articles
	WithExpert     int     `json:"with_expert"`        // answers with an expert text to compare with
	CitesGold      float64 `json:"cites_gold"`         // share of those citing ≥ 1 gold article
	Precision      float64 `json:"citation_precision"` // gold citations / resolved citations
	UnflaggedWrong float64 `json:"unflagged_wrong"`    // count
	RougeL         float64 `json:"rouge_l"`
	BigramF1       float64 `json:"bigram_f1"`
	EchoRate       float64 `json:"prompt_echo_rate"`
	FallbackRate   float64 `json:"fallback_rate"` // generated answers given up for the extractive one
	FirstTokenMs   float64 `json:"first_token_ms_p50"`
	TokensPerSec   float64 `json:"tokens_per_s"`
}

func foldMetrics(scores []AnswerScore) AnswerMetrics {
	m := AnswerMetrics{Answers: len(scores)}
	cited, citedGold := 0, 0
	var firsts []time.Duration
	var tps []float64
	for _, s := range scores {
		if s.HasGold {
			m.WithGold++
			if s.CitesGold {
				m.CitesGold++
			}
			cited += s.Cited
			citedGold += s.CitedGold
		}
		m.UnflaggedWrong += float64(s.UnflaggedWrong)
		if s.HasExpert {
			m.WithExpert++
			m.RougeL += s.RougeL
			m.BigramF1 += s.BigramF1
		}
		if s.Echo {
			m.EchoRate++
		}
		if s.Fallback != "" {
			m.FallbackRate++
		}
		if s.FirstToken > 0 {
			firsts = append(firsts, time.Duration(s.FirstToken*float64(time.Millisecond)))
		}
		if s.TokensPerSec > 0 {
			tps = append(tps, s.TokensPerSec)
		}
	}
	n := float64(max(len(scores), 1))
	m.CitesGold /= float64(max(m.WithGold, 1))
	m.RougeL /= float64(max(m.WithExpert, 1))
	m.BigramF1 /= float64(max(m.WithExpert, 1))
	m.EchoRate /= n
	m.FallbackRate /= n
	if cited > 0 {
		m.Precision = float64(citedGold) / float64(cited)
	}
	if len(firsts) > 0 {
		m.FirstTokenMs = percentileMs(firsts, 0.5)
	}
	for _, t := range tps {
		m.TokensPerSec += t / float64(len(tps))
	}
	return m
}

// AnswerReport is the evaluation: per fold, their mean and spread, and every answer's score.
type AnswerReport struct {
	Generator string          `json:"generator"`
	Folds     []AnswerMetrics `json:"folds"`
	Mean      AnswerMetrics   `json:"mean"`
	Spread    AnswerMetrics   `json:"spread"` // standard deviation over folds
	Scores    []AnswerScore   `json:"scores"`
}

// Answers asks each item's question through the pipeline with the item's own pair held out,
// scores the answers and splits them into folds (round robin in the items' order). Progress,
// when set, shows a bar; seen, when set, gets each result.
func Answers(ctx context.Context, p *advice.Pipeline, items []AnswerItem, folds int, progressTo io.Writer, seen func(AnswerItem, *advice.Result)) (*AnswerReport, error) {
	if len(items) == 0 {
		return nil, fmt.Errorf("no questions to answer")
	}
	folds = max(1, min(folds, len(items)))
	st := p.Retriever.State
	var bar *progress.Bar
	if progressTo != nil {
		bar = progress.New(progressTo, progress.Options{Label: "answer eval", Total: int64(len(items)), Unit: "answers"})
	}
	rep := &AnswerReport{}
	byFold := make([][]AnswerScore, folds)
	for i, it := range items {
		held := *p
		if qa := it.QA; qa >= 0 {
			held.HeldOut = func(n int32) bool { return n == qa || sameQuestion(st, n, qa) }
		}
		start := time.Now()
		res, err := held.Advise(ctx, it.Question, nil)
		if err != nil {
			return nil, fmt.Errorf("question %q: %w", it.Question, err)
		}
		if seen != nil {
			seen(it, res)
		}
		if res.Answer == nil {
			continue // the filter is off in the evaluation; kept for a pipeline with one
		}
		s := ScoreAnswer(st, res.Answer, it.Expert, it.Gold)
		s.Seconds = time.Since(start).Seconds()
		if rep.Generator == "" || s.Fallback == "" {
			rep.Generator = s.Generator
		}
		rep.Scores = append(rep.Scores, s)
		byFold[i%folds] = append(byFold[i%folds], s)
		if bar != nil {
			bar.Update(int64(i+1), int64(i+1))
		}
	}
	if bar != nil {
		bar.Finish()
	}
	for _, f := range byFold {
		rep.Folds = append(rep.Folds, foldMetrics(f))
	}
	rep.Mean, rep.Spread = meanSpread(rep.Folds)
	return rep, nil
}

// sameQuestion: another copy of the held-out pair (the corpus keeps a few questions twice).
func sameQuestion(st *state.State, n, qa int32) bool {
	return strings.TrimSpace(st.QA[n].Question) == strings.TrimSpace(st.QA[qa].Question)
}

// meanSpread is each metric's mean over folds and its standard deviation. The citation figures
// count only folds with gold articles, the overlap figures only folds with expert texts.
func meanSpread(folds []AnswerMetrics) (mean, spread AnswerMetrics) {
	type metric struct {
		get  func(*AnswerMetrics) *float64
		used func(*AnswerMetrics) bool
	}
	always := func(*AnswerMetrics) bool { return true }
	gold := func(m *AnswerMetrics) bool { return m.WithGold > 0 }
	expert := func(m *AnswerMetrics) bool { return m.WithExpert > 0 }
	metrics := []metric{
		{func(m *AnswerMetrics) *float64 { return &m.CitesGold }, gold},
		{func(m *AnswerMetrics) *float64 { return &m.Precision }, gold},
		{func(m *AnswerMetrics) *float64 { return &m.UnflaggedWrong }, always},
		{func(m *AnswerMetrics) *float64 { return &m.RougeL }, expert},
		{func(m *AnswerMetrics) *float64 { return &m.BigramF1 }, expert},
		{func(m *AnswerMetrics) *float64 { return &m.EchoRate }, always},
		{func(m *AnswerMetrics) *float64 { return &m.FallbackRate }, always},
		{func(m *AnswerMetrics) *float64 { return &m.FirstTokenMs }, func(m *AnswerMetrics) bool { return m.FirstTokenMs > 0 }},
		{func(m *AnswerMetrics) *float64 { return &m.TokensPerSec }, func(m *AnswerMetrics) bool { return m.TokensPerSec > 0 }},
	}
	for i := range folds {
		mean.Answers += folds[i].Answers
		mean.WithGold += folds[i].WithGold
		mean.WithExpert += folds[i].WithExpert
	}
	for _, mt := range metrics {
		var vals []float64
		for i := range folds {
			if mt.used(&folds[i]) {
				vals = append(vals, *mt.get(&folds[i]))
			}
		}
		if len(vals) == 0 {
			continue
		}
		var sum, sq float64
		for _, v := range vals {
			sum += v
		}
		mu := sum / float64(len(vals))
		for _, v := range vals {
			sq += (v - mu) * (v - mu)
		}
		*mt.get(&mean) = mu
		*mt.get(&spread) = math.Sqrt(sq / float64(len(vals)))
	}
	spread.Answers = len(folds)
	return mean, spread
}

// compact is text as characters without white space: Korean answers are compared by
// character, since words carry particles.
func compact(text string) []rune { return []rune(strings.Join(strings.Fields(text), "")) }

// RougeL is the F-measure of the longest common subsequence of two texts' characters.
func RougeL(candidate, reference string) float64 {
	a, b := compact(candidate), compact(reference)
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	prev, cur := make([]int, len(b)+1), make([]int, len(b)+1)
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			switch {
			case a[i-1] == b[j-1]:
				cur[j] = prev[j-1] + 1
			case prev[j] >= cur[j-1]:
				cur[j] = prev[j]
			default:
				cur[j] = cur[j-1]
			}
		}
		prev, cur = cur, prev
	}
	lcs := float64(prev[len(b)])
	p, r := lcs/float64(len(a)), lcs/float64(len(b))
	if p+r == 0 {
		return 0
	}
	return 2 * p * r / (p + r)
}

// BigramF1 is the F1 of two texts' character bigrams, counted with multiplicity.
func BigramF1(candidate, reference string) float64 {
	grams := func(r []rune) map[string]int {
		m := map[string]int{}
		for i := 0; i+1 < len(r); i++ {
			m[string(r[i:i+2])]++
		}
		return m
	}
	a, b := grams(compact(candidate)), grams(compact(reference))
	na, nb, both := 0, 0, 0
	for g, n := range a {
		na += n
		both += min(n, b[g])
	}
	for _, n := range b {
		nb += n
	}
	if both == 0 {
		return 0
	}
	p, r := float64(both)/float64(na), float64(both)/float64(nb)
	return 2 * p * r / (p + r)
}
