package evaluation

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
)

// StatuteCase is one line of a statute dev set.
type StatuteCase struct {
	ID    string   `json:"id"`
	Query string   `json:"query"`
	Gold  []string `json:"gold"`
}

func (c *StatuteCase) Validate() error {
	if c.Query == "" || len(c.Gold) == 0 {
		return fmt.Errorf("needs query and gold")
	}
	return nil
}

// RankingMetrics are averaged over queries.
type RankingMetrics struct {
	Queries int     `json:"queries"`
	RecallA float64 `json:"recall_at_5"`
	RecallK float64 `json:"recall_at_k"`
	HitK    float64 `json:"hit_at_k"`
	MRRK    float64 `json:"mrr_at_k"`
	K       int     `json:"k"`
	P50ms   float64 `json:"latency_p50_ms"`
	P99ms   float64 `json:"latency_p99_ms"`
	// The lists shown beside the articles: the share of the top 10 precedents whose 참조조문 cite
	// a gold article, and of the top 5 Q&A pairs whose answers name a gold article's law (few
	// answers cite articles; most name the law).
	PrecedentP10 float64 `json:"precedent_precision_at_10"`
	QAP5         float64 `json:"qa_law_precision_at_5"`
	Skipped      int     `json:"skipped_lines"`
	ParamSet     string  `json:"params,omitempty"`
}

// scoreRanking adds one query's Recall@5, Recall@k, Hit@k and reciprocal rank (within k).
func scoreRanking(m *RankingMetrics, ranked, gold []string, k int) {
	in := map[string]bool{}
	for _, g := range gold {
		in[g] = true
	}
	found5, foundK, first := 0, 0, 0
	for i, id := range ranked {
		if !in[id] {
			continue
		}
		if i < 5 {
			found5++
		}
		if i < k {
			foundK++
			if first == 0 {
				first = i + 1
			}
		}
	}
	m.RecallA += float64(found5) / float64(len(gold))
	m.RecallK += float64(foundK) / float64(len(gold))
	if foundK > 0 {
		m.HitK++
		m.MRRK += 1 / float64(first)
	}
	m.Queries++
}

// Statutes runs every case through p (which should take every message as legal) and averages
// the metrics: Recall@5, Recall@k, Hit@k, MRR@k, latency, and how many of the precedents and
// Q&A shown point at the gold articles; each case's result goes to seen (nil: none), for --explain.
func Statutes(ctx context.Context, p *advice.Pipeline, cases []StatuteCase, k int, seen func(StatuteCase, *advice.Result)) (RankingMetrics, error) {
	m := RankingMetrics{K: k}
	p.Sizes.Statutes = max(k, 10)
	var latencies []time.Duration
	for _, c := range cases {
		start := time.Now()
		res, err := p.Advise(ctx, c.Query, nil)
		if err != nil {
			return m, fmt.Errorf("%s: %w", c.ID, err)
		}
		latencies = append(latencies, time.Since(start))
		ids := make([]string, len(res.Statutes))
		for i, s := range res.Statutes {
			ids[i] = s.Statute.ID()
		}
		scoreRanking(&m, ids, c.Gold, k)
		m.PrecedentP10 += shareCiting(res.Precedents, 10, c.Gold, func(p advice.PrecedentMatch) []string { return p.Precedent.CitedStatutes })
		m.QAP5 += shareCiting(res.SimilarQuestions, 5, goldLaws(c.Gold), func(q advice.QAMatch) []string { return namedLaws(q.QA.Answer, c.Gold) })
		if seen != nil {
			seen(c, res)
		}
	}
	if m.Queries == 0 {
		return m, fmt.Errorf("no usable queries")
	}
	n := float64(m.Queries)
	m.RecallA, m.RecallK, m.HitK, m.MRRK = m.RecallA/n, m.RecallK/n, m.HitK/n, m.MRRK/n
	m.PrecedentP10, m.QAP5 = m.PrecedentP10/n, m.QAP5/n
	m.P50ms, m.P99ms = percentileMs(latencies, 0.50), percentileMs(latencies, 0.99)
	return m, nil
}

// shareCiting is the share of the first n items whose cited articles include a gold one (0 when
// the list is empty).
func shareCiting[T any](items []T, n int, gold []string, cites func(T) []string) float64 {
	items = items[:min(n, len(items))]
	if len(items) == 0 {
		return 0
	}
	hits := 0
	for _, it := range items {
		if slices.ContainsFunc(cites(it), func(id string) bool { return slices.Contains(gold, id) }) {
			hits++
		}
	}
	return float64(hits) / float64(len(items))
}

// goldLaws are the laws of the gold articles ("민법 제618조" → "민법").
func goldLaws(gold []string) []string {
	var out []string
	for _, g := range gold {
		l, _, _ := strings.Cut(g, " 제")
		if !slices.Contains(out, l) {
			out = append(out, l)
		}
	}
	return out
}

// namedLaws are the gold articles' laws that text names.
func namedLaws(text string, gold []string) []string {
	var out []string
	for _, l := range goldLaws(gold) {
		if strings.Contains(text, l) {
			out = append(out, l)
		}
	}
	return out
}

func percentileMs(ds []time.Duration, q float64) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	i := int(q * float64(len(s)-1))
	return float64(s[i].Microseconds()) / 1000
}
