package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
)

// filterLegalDevFile holds the real questions the filter must accept (field query).
const filterLegalDevFile = "statutes_from_question.dev.jsonl"

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

// filterDevText is a dev text with its class and the id --explain takes.
type filterDevText struct {
	id, text string
	legal    bool
}

// readFilterDev reads a dev set; items without an id get "FILE:LINE".
func readFilterDev(path string, legal bool) ([]filterDevText, error) {
	var out []filterDevText
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
		out = append(out, filterDevText{id: id, text: text, legal: legal})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read dev set: %w", err)
	}
	return out, nil
}

// filterEvalReport is what lawbot eval --task filter prints (--json: this object).
type filterEvalReport struct {
	Model     string  `json:"model"`
	Threshold float64 `json:"threshold"`
	// FAR is the share of the non-legal dev texts accepted; FRR the share of the legal questions
	// rejected.
	FAR          float64              `json:"far"`
	FRR          float64              `json:"frr"`
	NonLegal     int                  `json:"nonlegal"`
	Legal        int                  `json:"legal"`
	FalseAccepts []string             `json:"false_accepts"` // ids
	FalseRejects []string             `json:"false_rejects"`
	LatencyP50us float64              `json:"latency_p50_us"`
	LatencyP99us float64              `json:"latency_p99_us"`
	HeldOut      models.FilterMetrics `json:"held_out"`
	NonLegalFile string               `json:"nonlegal_file"`
	LegalFile    string               `json:"legal_file"`
}

// evalFilter reports the legal-question filter's FAR on the non-legal dev set (opt.File) and its
// FRR on the dev questions, with the latency of one Classify.
func evalFilter(opt evalOptions, stdout, stderr io.Writer) error {
	path := models.FilterPath(opt.StateDir)
	f, err := models.LoadFilter(path, service.AnalyzerFor)
	if errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no filter model in %s; run lawbot train", opt.StateDir)
	}
	if err != nil {
		return err
	}
	legalFile := filepath.Join(opt.DataDir, "eval", filterLegalDevFile)
	nonLegal, err := readFilterDev(opt.File, false)
	if err != nil {
		return err
	}
	legal, err := readFilterDev(legalFile, true)
	if err != nil {
		return err
	}
	items := append(nonLegal, legal...)
	if opt.Explain != "" {
		return explainFilter(f, items, opt.Explain, stdout)
	}

	f.Score("법률 상담 준비") // loads the dictionary, which is not per-query latency
	rep := filterEvalReport{
		Model: path, Threshold: f.Threshold(), HeldOut: f.Info().HeldOut,
		NonLegal: len(nonLegal), Legal: len(legal), NonLegalFile: opt.File, LegalFile: legalFile,
		FalseAccepts: []string{}, FalseRejects: []string{},
	}
	latencies := make([]time.Duration, 0, len(items))
	for _, it := range items {
		start := time.Now()
		accepted, _ := f.Classify(it.text)
		latencies = append(latencies, time.Since(start))
		switch {
		case accepted && !it.legal:
			rep.FalseAccepts = append(rep.FalseAccepts, it.id)
		case !accepted && it.legal:
			rep.FalseRejects = append(rep.FalseRejects, it.id)
		}
	}
	rep.FAR = filterRate(len(rep.FalseAccepts), len(nonLegal))
	rep.FRR = filterRate(len(rep.FalseRejects), len(legal))
	slices.Sort(latencies)
	rep.LatencyP50us = filterPercentile(latencies, 0.50).Seconds() * 1e6
	rep.LatencyP99us = filterPercentile(latencies, 0.99).Seconds() * 1e6

	if opt.JSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	printFilterEval(stdout, rep, items)
	return nil
}

func printFilterEval(w io.Writer, rep filterEvalReport, items []filterDevText) {
	text := map[string]string{}
	for _, it := range items {
		text[it.id] = it.text
	}
	fmt.Fprintf(w, "filter %s  threshold %.4f\n", rep.Model, rep.Threshold)
	fmt.Fprintf(w, "  FAR %5.2f%%  %d of %d non-legal texts accepted  (%s)\n",
		100*rep.FAR, len(rep.FalseAccepts), rep.NonLegal, rep.NonLegalFile)
	fmt.Fprintf(w, "  FRR %5.2f%%  %d of %d legal questions rejected  (%s)\n",
		100*rep.FRR, len(rep.FalseRejects), rep.Legal, rep.LegalFile)
	fmt.Fprintf(w, "  latency per query  p50 %.0f µs  p99 %.0f µs\n", rep.LatencyP50us, rep.LatencyP99us)
	fmt.Fprintf(w, "  held-out at training  FRR %.2f%%  FAR %.2f%%\n", 100*rep.HeldOut.FRR, 100*rep.HeldOut.FAR)
	for _, e := range []struct {
		what string
		ids  []string
	}{{"accepted, not legal", rep.FalseAccepts}, {"rejected, legal", rep.FalseRejects}} {
		for i, id := range e.ids {
			if i == 10 {
				fmt.Fprintf(w, "  … %d more %s\n", len(e.ids)-i, e.what)
				break
			}
			fmt.Fprintf(w, "  %s  %s  %s\n", e.what, id, clip(text[id], 80))
		}
	}
}

// explainFilter prints the score of one dev text and the features that decided it.
func explainFilter(f *models.Filter, items []filterDevText, id string, w io.Writer) error {
	for _, it := range items {
		if it.id != id {
			continue
		}
		accepted, score := f.Classify(it.text)
		fmt.Fprintf(w, "%s  %s\n  score %.4f (threshold %.4f): legal=%v, gold legal=%v\n",
			it.id, it.text, score, f.Threshold(), accepted, it.legal)
		for _, c := range f.Explain(it.text, 15) {
			fmt.Fprintf(w, "  %+8.4f  %s\n", c.Contribution, c.Feature)
		}
		return nil
	}
	return fmt.Errorf("no dev text with id %q (ids are the question set's ids, or FILE:LINE for the non-legal set)", id)
}

func filterRate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// filterPercentile of sorted durations, nearest rank.
func filterPercentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(p*float64(len(sorted))+0.5) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}
