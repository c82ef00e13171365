package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/service"
)

func evalStatutes(opt evalOptions, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, err := openForEval(ctx, opt, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	if opt.CorpusFolds {
		run := holdingFolds
		if filepath.Base(opt.File) == evaluation.LegalQuestionsFile {
			run = questionFolds
		}
		if err := run(ctx, svc.Pipeline, opt, stdout, stderr); err != nil {
			return err
		}
	}
	var cases []evaluation.StatuteCase
	skipped := 0
	err = law.ReadJSONL(opt.File, law.ReadOptions{OnBad: func(e *law.LineError) {
		skipped++
		fmt.Fprintln(stderr, e)
	}}, func(c *evaluation.StatuteCase) error { cases = append(cases, *c); return nil })
	if err != nil {
		return err
	}
	m, err := evaluation.Statutes(ctx, svc.Pipeline, cases, opt.K, func(c evaluation.StatuteCase, res *advice.Result) {
		if c.ID == opt.Explain {
			explainRanking(stdout, c, res.SimilarQuestions, res.Precedents, res.Statutes)
		}
	})
	if err != nil {
		return fmt.Errorf("%s: %w", opt.File, err)
	}
	m.Skipped, m.ParamSet = skipped, strings.Join(opt.Params, " ")
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(m)
	}
	if opt.CorpusFolds {
		fmt.Fprintln(stdout, "dev set (the final check):")
	}
	fmt.Fprintf(stdout, "%s: %d queries\n  Recall@5   %.3f\n  Recall@%-3d %.3f\n  Hit@%-3d    %.3f\n  MRR@%-3d    %.3f\n  latency    p50 %.1f ms, p99 %.1f ms\n"+
		"  similar precedents citing a gold article (top 10)  %.3f\n  similar Q&A naming a gold article's law (top 5)  %.3f\n",
		opt.File, m.Queries, m.RecallA, m.K, m.RecallK, m.K, m.HitK, m.K, m.MRRK, m.P50ms, m.P99ms, m.PrecedentP10, m.QAP5)
	return nil
}

// explainRanking prints one query's ranking with its reasons, marking the gold articles.
func explainRanking(w io.Writer, c evaluation.StatuteCase, qas []advice.QAMatch, precs []advice.PrecedentMatch, ranked []advice.StatuteMatch) {
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

// openForEval opens the pipeline the API runs, with every message taken as legal (the filter
// has its own evaluation) and the --param overrides applied.
func openForEval(ctx context.Context, opt evalOptions, stderr io.Writer) (*service.Service, error) {
	svc, err := service.Open(ctx, service.Config{StateDir: opt.StateDir, VectorStore: opt.VectorStore,
		Models: opt.Models, NoFilter: true, Stdout: stderr, Stderr: stderr})
	if err != nil {
		return nil, err
	}
	for _, kv := range opt.Params {
		if err := svc.Pipeline.Params.Set(kv); err != nil {
			svc.Close()
			return nil, err
		}
	}
	return svc, nil
}

// holdingFolds measures the ranking on folds of the corpus's decisions (each held out of its
// own search) and prints mean ± spread.
func holdingFolds(ctx context.Context, p *advice.Pipeline, opt evalOptions, stdout, stderr io.Writer) error {
	cases := evaluation.CorpusHoldingCases(p.Retriever, 0, opt.Seed)
	excluded := 0
	if r := p.StatuteRanker; r != nil {
		// The decisions the ranker learned from are not asked, with it or without it: both
		// rankings are measured on the same held-out decisions.
		trained := map[int32]bool{}
		for _, c := range evaluation.CorpusHoldingCases(p.Retriever, r.Info.Queries, r.Info.Seed) {
			trained[c.Precedent] = true
		}
		kept := cases[:0]
		for _, c := range cases {
			if trained[c.Precedent] {
				excluded++
			} else {
				kept = append(kept, c)
			}
		}
		cases = kept
	}
	if opt.N > 0 && opt.N < len(cases) {
		cases = cases[:opt.N]
	}
	rep, err := evaluation.HoldingFolds(ctx, p, cases, opt.K, opt.Folds, stderr, nil)
	if err != nil {
		return err
	}
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	m, s := rep.Mean, rep.Spread
	fmt.Fprintf(stdout, "corpus folds: %d decisions' 판시사항 (대법원, held out of their own search, statute mentions removed), %d folds, seed %d\n",
		m.Queries, len(rep.Folds), opt.Seed)
	if excluded > 0 {
		fmt.Fprintf(stdout, "  (the %d decisions the learned ranker learned from are left out)\n", excluded)
	}
	fmt.Fprintf(stdout, "  Recall@5   %.3f ± %.3f\n  Recall@%-3d %.3f ± %.3f\n  Hit@%-3d    %.3f ± %.3f\n  MRR@%-3d    %.3f ± %.3f\n  latency    p50 %.1f ms\n",
		m.RecallA, s.RecallA, m.K, m.RecallK, s.RecallK, m.K, m.HitK, s.HitK, m.K, m.MRRK, s.MRRK, m.P50ms)
	return nil
}

// questionFolds measures the ranking's laws on folds of the corpus's Q&A questions (each pair
// held out of its own search) against the laws their answers name.
func questionFolds(ctx context.Context, p *advice.Pipeline, opt evalOptions, stdout, stderr io.Writer) error {
	cases := evaluation.CorpusQuestionCases(p.Retriever, opt.N, opt.Seed)
	rep, err := evaluation.QuestionFolds(ctx, p, cases, opt.K, opt.Folds, stderr)
	if err != nil {
		return err
	}
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	m, s := rep.Mean, rep.Spread
	fmt.Fprintf(stdout, "corpus folds: %d Q&A questions (held out of their own search; gold: the laws their answers name), %d folds, seed %d\n",
		m.Queries, len(rep.Folds), opt.Seed)
	fmt.Fprintf(stdout, "  gold laws among the top %d articles' laws  %.3f ± %.3f\n  first article of a gold law               %.3f ± %.3f\n",
		m.K, m.LawRecallK, s.LawRecallK, m.LawP1, s.LawP1)
	return nil
}
