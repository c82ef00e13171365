package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
)

// evalCoverage runs the coverage questions (laws outside the 66 of statutes.jsonl) through the
// pipeline: how often the expected law is among the first laws of the ranking.
func evalCoverage(opt evalOptions, stdout, stderr io.Writer) error {
	ctx := context.Background()
	svc, err := openForEval(ctx, opt, stderr)
	if err != nil {
		return err
	}
	defer svc.Close()
	var cases []evaluation.CoverageCase
	if err := law.ReadJSONL(opt.File, law.ReadOptions{}, func(c *evaluation.CoverageCase) error { cases = append(cases, *c); return nil }); err != nil {
		return err
	}
	rep, err := evaluation.Coverage(ctx, svc.Pipeline, cases)
	if err != nil {
		return err
	}
	if opt.JSON {
		return json.NewEncoder(stdout).Encode(rep)
	}
	fmt.Fprintf(stdout, "coverage: %d questions (%s); the corpus has %d of their laws\n  expected law first      %.3f\n  expected law in top 3   %.3f\n",
		rep.Questions, opt.File, rep.InCorpus, rep.Hit1, rep.Hit3)
	for i, m := range rep.Misses {
		if i == 10 {
			fmt.Fprintf(stdout, "  … %d more misses\n", len(rep.Misses)-i)
			break
		}
		fmt.Fprintf(stdout, "  miss: %s\n", clip(m, 120))
	}
	return nil
}
