package update

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

// The dev sets evaluate runs, from the corpus's eval/ folder; a missing one is skipped.
var statuteTasks = []struct{ name, file string }{
	{"question", evaluation.LegalQuestionsFile},
	{"holding", "statutes_from_holding.dev.jsonl"},
}

// evalK is the cut-off of the ranking figures (lawbot eval's default).
const evalK = 10

// evaluate measures the new version and the current one on the same dev sets. The current
// version's figures are reused when they were taken on the same dev sets.
func (r *run) evaluate(ctx context.Context) (StepResult, error) {
	sets, err := devSetsFingerprint(r.opt.Data, r.opt.Generator)
	if err != nil {
		return StepResult{}, err
	}
	if r.v.Eval, err = measure(ctx, r.vdir, r.opt.Data, r.opt.Generator, r.opt.Stderr); err != nil {
		return StepResult{}, fmt.Errorf("evaluate %s: %w", r.v.ID, err)
	}
	r.v.EvalSets = sets
	r.v.EvalCurrent, r.v.CurrentID = nil, r.curID
	reused := false
	if r.curID != "" {
		cur, err := state.ReadVersion(r.curDir)
		if err == nil && cur.EvalSets == sets && len(cur.Eval) > 0 {
			r.v.EvalCurrent, reused = cur.Eval, true
		} else if r.v.EvalCurrent, err = measure(ctx, r.curDir, r.opt.Data, r.opt.Generator, r.opt.Stderr); err != nil {
			return StepResult{}, fmt.Errorf("evaluate current %s: %w", r.curID, err)
		}
	}
	sum := formatFigures(r.v.Eval)
	if r.curID != "" {
		how := "measured"
		if reused {
			how = "from its version.json"
		}
		sum += fmt.Sprintf("; current %s (%s): %s", r.curID, how, formatFigures(r.v.EvalCurrent))
	}
	return StepResult{Summary: sum}, nil
}

// answerPairs is how many of the corpus's Q&A pairs the answer eval holds out and answers
// (seeded, so both versions answer the same ones where their corpora share them).
const answerPairs = 40

// measure runs the dev sets on the state in dir: Recall@10 and MRR@10 of the statute rankings,
// the filter's FAR and FRR, and the answer eval with generator (lawbot eval --task answer):
// the share of the dev questions whose answer cites an article their expert cites, the
// citations shown as checked that are wrong (must stay 0), and the ROUGE-L of answers to
// held-out Q&A pairs against their experts' answers.
func measure(ctx context.Context, dir, data, generator string, logw io.Writer) (map[string]float64, error) {
	out := map[string]float64{}
	evalDir := filepath.Join(data, "eval")
	var svc *service.Service
	defer func() { svc.Close() }()
	for _, t := range statuteTasks {
		path := filepath.Join(evalDir, t.file)
		if _, err := os.Stat(path); err != nil {
			continue
		}
		if svc == nil {
			var err error
			if svc, err = service.Open(ctx, service.Config{StateDir: dir, VectorStore: "embedded", NoFilter: true,
				Models: service.ModelConfig{Generator: generator}, Stdout: logw, Stderr: logw}); err != nil {
				return nil, err
			}
		}
		var cases []evaluation.StatuteCase
		if err := law.ReadJSONL(path, law.ReadOptions{}, func(c *evaluation.StatuteCase) error { cases = append(cases, *c); return nil }); err != nil {
			return nil, err
		}
		m, err := evaluation.Statutes(ctx, svc.Pipeline, cases, evalK, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		out[t.name+".recall_at_10"] = m.RecallK
		out[t.name+".mrr_at_10"] = m.MRRK
		if t.name == "question" {
			dev, err := evaluation.Answers(ctx, svc.Pipeline, evaluation.DevAnswerItems(cases), 1, logw, nil)
			if err != nil {
				return nil, fmt.Errorf("answer eval on %s: %w", path, err)
			}
			st := svc.Pipeline.Retriever.State
			pairs, err := evaluation.Answers(ctx, svc.Pipeline,
				evaluation.AnswerItems(st, law.NewCitationParser(law.NewCatalog(st.Statutes)), answerPairs, 1), 1, logw, nil)
			if err != nil {
				return nil, fmt.Errorf("answer eval on held-out pairs: %w", err)
			}
			out["answer.cites_gold"] = dev.Mean.CitesGold
			out["answer.unflagged_wrong"] = dev.Mean.UnflaggedWrong + pairs.Mean.UnflaggedWrong
			out["answer.rouge_l"] = pairs.Mean.RougeL
			if generator != "" && generator != "extractive" {
				out["answer.fallback_rate"] = dev.Mean.FallbackRate
			}
		}
	}
	nonLegal, legal := filepath.Join(evalDir, evaluation.NonLegalFile), filepath.Join(evalDir, evaluation.LegalQuestionsFile)
	if _, err := os.Stat(models.FilterPath(dir)); err == nil && exists(nonLegal) && exists(legal) {
		set, err := evaluation.LoadFilterSet(dir, service.AnalyzerFor, nonLegal, legal)
		if err != nil {
			return nil, err
		}
		rep, err := evaluation.Filter(ctx, set)
		if err != nil {
			return nil, err
		}
		out["filter.far"], out["filter.frr"] = rep.FAR, rep.FRR
	}
	return out, nil
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// answerEvalVersion changes when the answer eval measures differently, so that figures of an
// older run are measured again instead of compared.
const answerEvalVersion = "answers.v1"

// devSetsFingerprint hashes the dev sets evaluate reads and how the answers are written, so
// figures taken on other sets, or with another generator, are not compared with these.
func devSetsFingerprint(data, generator string) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "%s %d generator=%s\n", answerEvalVersion, answerPairs, generator)
	for _, name := range []string{evaluation.LegalQuestionsFile, "statutes_from_holding.dev.jsonl", evaluation.NonLegalFile} {
		b, err := os.ReadFile(filepath.Join(data, "eval", name))
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		sum := sha256.Sum256(b)
		fmt.Fprintf(h, "%s\t%x\n", name, sum)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func formatFigures(m map[string]float64) string {
	if len(m) == 0 {
		return "no dev sets"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s %.4f", k, m[k])
	}
	return strings.Join(parts, ", ")
}
