package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/service"
)

// statuteCase is one line of a statute dev set.
type statuteCase struct {
	ID    string   `json:"id"`
	Query string   `json:"query"`
	Gold  []string `json:"gold"`
}

func (c *statuteCase) Validate() error {
	if c.Query == "" || len(c.Gold) == 0 {
		return fmt.Errorf("needs query and gold")
	}
	return nil
}

// rankingMetrics are averaged over queries.
type rankingMetrics struct {
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
func scoreRanking(m *rankingMetrics, ranked, gold []string, k int) {
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

func evalStatutes(opt evalOptions, stdout, stderr io.Writer) error {
	ctx := context.Background()
	// The statute ranking alone: every message taken as legal (the filter has its own eval).
	svc, err := service.Open(ctx, service.Config{StateDir: opt.StateDir, VectorStore: opt.VectorStore,
		Models: opt.Models, NoFilter: true, Stdout: stderr, Stderr: stderr})
	if err != nil {
		return err
	}
	defer svc.Close()
	p, r := svc.Pipeline, svc.Pipeline.Retriever
	for _, kv := range opt.Params {
		if err := r.Params.Set(kv); err != nil {
			return err
		}
	}
	var cases []statuteCase
	m := rankingMetrics{K: opt.K, ParamSet: strings.Join(opt.Params, " ")}
	err = law.ReadJSONL(opt.File, law.ReadOptions{OnBad: func(e *law.LineError) {
		m.Skipped++
		fmt.Fprintln(stderr, e)
	}}, func(c *statuteCase) error { cases = append(cases, *c); return nil })
	if err != nil {
		return err
	}
	p.Sizes.Statutes = max(opt.K, 10)
	var latencies []time.Duration
	for _, c := range cases {
		start := time.Now()
		res, err := p.Advise(ctx, c.Query, nil)
		if err != nil {
			return fmt.Errorf("%s %s: %w", opt.File, c.ID, err)
		}
		latencies = append(latencies, time.Since(start))
		qas, precs, ranked := res.SimilarQuestions, res.Precedents, res.Statutes
		ids := make([]string, len(ranked))
		for i, s := range ranked {
			ids[i] = s.Statute.ID()
		}
		scoreRanking(&m, ids, c.Gold, opt.K)
		m.PrecedentP10 += shareCiting(precs, 10, c.Gold, func(p advice.PrecedentMatch) []string { return p.Precedent.CitedStatutes })
		m.QAP5 += shareCiting(qas, 5, goldLaws(c.Gold), func(q advice.QAMatch) []string { return namedLaws(q.QA.Answer, c.Gold) })
		if c.ID == opt.Explain {
			explainRanking(stdout, c, qas, precs, ranked)
		}
	}
	if m.Queries == 0 {
		return fmt.Errorf("no usable queries in %s", opt.File)
	}
	n := float64(m.Queries)
	m.RecallA, m.RecallK, m.HitK, m.MRRK = m.RecallA/n, m.RecallK/n, m.HitK/n, m.MRRK/n
	m.PrecedentP10, m.QAP5 = m.PrecedentP10/n, m.QAP5/n
	m.P50ms, m.P99ms = percentileMs(latencies, 0.50), percentileMs(latencies, 0.99)
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(m)
	}
	fmt.Fprintf(stdout, "%s: %d queries\n  Recall@5   %.3f\n  Recall@%-3d %.3f\n  Hit@%-3d    %.3f\n  MRR@%-3d    %.3f\n  latency    p50 %.1f ms, p99 %.1f ms\n"+
		"  similar precedents citing a gold article (top 10)  %.3f\n  similar Q&A naming a gold article's law (top 5)  %.3f\n",
		opt.File, m.Queries, m.RecallA, m.K, m.RecallK, m.K, m.HitK, m.K, m.MRRK, m.P50ms, m.P99ms, m.PrecedentP10, m.QAP5)
	return nil
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

// explainRanking prints one query's ranking with its reasons, marking the gold articles.
func explainRanking(w io.Writer, c statuteCase, qas []advice.QAMatch, precs []advice.PrecedentMatch, ranked []advice.StatuteMatch) {
	gold := map[string]bool{}
	for _, g := range c.Gold {
		gold[g] = true
	}
	fmt.Fprintf(w, "== %s\n%s\ngold: %s\n\nranked articles:\n", c.ID, c.Query, strings.Join(c.Gold, ", "))
	for i, s := range ranked {
		mark := " "
		if gold[s.Statute.ID()] {
			mark = "✓"
		}
		fmt.Fprintf(w, "%2d %s %-28s %6.3f  %s\n", i+1, mark, s.Statute.ID(), s.Score, s.Statute.Title)
		for _, reason := range s.Reasons {
			fmt.Fprintf(w, "       %4.0f%%  %s\n", 100*reason.Weight, reason)
		}
	}
	fmt.Fprintln(w, "\nsimilar precedents:")
	for i, p := range precs[:min(len(precs), 10)] {
		fmt.Fprintf(w, "%2d %6.2f  %-16s %s  cites %s\n", i+1, p.Score, p.Precedent.CaseNo, p.Precedent.Date, strings.Join(p.Precedent.CitedStatutes, ", "))
	}
	fmt.Fprintln(w, "\nsimilar Q&A:")
	for i, q := range qas[:min(len(qas), 5)] {
		fmt.Fprintf(w, "%2d %6.2f  %s\n", i+1, q.Score, truncateRunes(q.QA.Question, 80))
	}
	fmt.Fprintln(w)
}

func truncateRunes(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}
