package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
)

func evalAnswers(opt evalOptions, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, err := openForEval(ctx, opt, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	st := svc.Pipeline.Retriever.State
	items := evaluation.AnswerItems(st, law.NewCitationParser(law.NewCatalog(st.Statutes)), opt.N, opt.Seed)
	source := "Q&A pairs of the corpus, each held out of the search"
	if opt.File != "" { // the final check: a dev set's questions and their experts' articles
		var cases []evaluation.StatuteCase
		if err := law.ReadJSONL(opt.File, law.ReadOptions{}, func(c *evaluation.StatuteCase) error { cases = append(cases, *c); return nil }); err != nil {
			return err
		}
		if opt.N > 0 && opt.N < len(cases) {
			cases = cases[:opt.N]
		}
		items, source = evaluation.DevAnswerItems(cases), opt.File
	}
	rep, err := evaluation.Answers(ctx, svc.Pipeline, items, opt.Folds, stderr, nil)
	if err != nil {
		return err
	}
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	m, s := rep.Mean, rep.Spread
	fmt.Fprintf(stdout, "answer eval: %d questions (%s; %d with the expert's articles), %d folds, generator %s\n",
		m.Answers, source, m.WithGold, len(rep.Folds), rep.Generator)
	row := func(name string, mean, spread float64, format string) {
		fmt.Fprintf(stdout, "  %-34s "+format+" ± "+format+"\n", name, mean, spread)
	}
	none := func(name, why string) { fmt.Fprintf(stdout, "  %-34s —  (%s)\n", name, why) }
	if m.WithGold > 0 {
		row("cites ≥ 1 gold article", m.CitesGold, s.CitesGold, "%.3f")
		row("citation precision", m.Precision, s.Precision, "%.3f")
	} else {
		none("cites ≥ 1 gold article", "no expert answer here cites an article")
	}
	row("unflagged wrong citations", m.UnflaggedWrong, s.UnflaggedWrong, "%.0f")
	if m.WithExpert > 0 {
		row("ROUGE-L (characters)", m.RougeL, s.RougeL, "%.3f")
		row("character-bigram F1", m.BigramF1, s.BigramF1, "%.3f")
	} else {
		none("ROUGE-L, bigram F1", "no expert text to compare with")
	}
	row("prompt echo rate", m.EchoRate, s.EchoRate, "%.3f")
	row("fallback to extractive", m.FallbackRate, s.FallbackRate, "%.3f")
	if m.TokensPerSec > 0 {
		row("time to first token p50 (ms)", m.FirstTokenMs, s.FirstTokenMs, "%.0f")
		row("tokens/s", m.TokensPerSec, s.TokensPerSec, "%.1f")
	}
	return nil
}
