package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/service"
)

// evalFilter reports the legal-question filter's FAR on the non-legal dev set (opt.File) and its
// FRR on the dev questions, with the latency of one Classify.
func evalFilter(opt evalOptions, stdout, stderr io.Writer) error {
	legal := opt.LegalFile
	if legal == "" {
		legal = filepath.Join(opt.DataDir, "eval", evaluation.LegalQuestionsFile)
	}
	set, err := evaluation.LoadFilterSet(opt.StateDir, service.AnalyzerFor, opt.File, legal)
	if err != nil {
		return err
	}
	if opt.Explain != "" {
		e, err := set.Explain(opt.Explain, 15)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s  %s\n  score %.4f (threshold %.4f): legal=%v, gold legal=%v\n",
			e.Text.ID, e.Text.Text, e.Score, e.Threshold, e.Accepted, e.Text.Legal)
		for _, c := range e.Contributions {
			fmt.Fprintf(stdout, "  %+8.4f  %s\n", c.Contribution, c.Feature)
		}
		return nil
	}
	rep, err := evaluation.Filter(context.Background(), set)
	if err != nil {
		return err
	}
	if opt.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printFilterEval(stdout, rep, set)
	return nil
}

func printFilterEval(w io.Writer, rep evaluation.FilterReport, set *evaluation.FilterSet) {
	fmt.Fprintf(w, "filter %s  threshold %.4f\n", rep.Model, rep.Threshold)
	fmt.Fprintf(w, "  FAR %5.2f%%  %d of %d non-legal texts accepted  (%s)\n",
		100*rep.FAR, len(rep.FalseAccepts), rep.NonLegal, rep.NonLegalFile)
	fmt.Fprintf(w, "  FRR %5.2f%%  %d of %d legal questions rejected  (%s)\n",
		100*rep.FRR, len(rep.FalseRejects), rep.Legal, rep.LegalFile)
	if b := rep.Band; b.MaxRunes > 0 {
		fmt.Fprintf(w, "  UNSURE %5.2f%%  %d texts (messages of ≤ %d characters scoring %.4f–%.4f: LawBot asks what happened)\n",
			100*rep.UnsureRate, len(rep.Unsure), b.MaxRunes, b.Low, b.High)
	}
	fmt.Fprintf(w, "  latency per query  p50 %.0f µs  p99 %.0f µs\n", rep.LatencyP50us, rep.LatencyP99us)
	fmt.Fprintf(w, "  held-out at training  FRR %.2f%%  FAR %.2f%%\n", 100*rep.HeldOut.FRR, 100*rep.HeldOut.FAR)
	for _, e := range []struct {
		what string
		ids  []string
	}{{"accepted, not legal", rep.FalseAccepts}, {"rejected, legal", rep.FalseRejects}, {"unsure", rep.Unsure}} {
		for i, id := range e.ids {
			if i == 10 {
				fmt.Fprintf(w, "  … %d more %s\n", len(e.ids)-i, e.what)
				break
			}
			fmt.Fprintf(w, "  %s  %s  %s\n", e.what, id, clip(set.Text(id), 80))
		}
	}
}
