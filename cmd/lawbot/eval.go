package main

import (
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

// evalOptions are the flags every evaluation task shares.
type evalOptions struct {
	DataDir  string // corpus directory; the dev sets are in its eval/ folder
	StateDir string
	File     string // dev set; default per task
	// LegalFile is the filter task's legal texts (default DATA/eval's dev questions).
	LegalFile string
	// CorpusFolds: the holding task measures N corpus decisions in Folds folds first.
	CorpusFolds bool
	K           int
	Explain     string // query id whose ranking to print with reasons
	JSON        bool
	Params      []string // name=value overrides of the retrieval parameters, for tuning
	// VectorStore is the dense side: embedded, milvus://HOST:PORT or none.
	VectorStore string
	Models      service.ModelConfig
	// The answer evaluation's sample: how many Q&A pairs, in how many folds, drawn with which seed.
	N, Folds int
	Seed     uint64
}

// listFlag collects a repeatable flag.
type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error { *l = append(*l, v); return nil }

// evalTasks maps --task to its dev set and runner.
var evalTasks = map[string]struct {
	file string
	run  func(opt evalOptions, stdout, stderr io.Writer) error
}{
	"holding":  {"statutes_from_holding.dev.jsonl", evalStatutes},
	"question": {"statutes_from_question.dev.jsonl", evalStatutes},
	"filter":   {"filter_nonlegal.dev.jsonl", evalFilter},
	"answer":   {"", evalAnswers},
	"coverage": {"", evalCoverage},
}

func runEval(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("eval", stderr)
	task := fs.String("task", "holding", "holding | question | filter | answer | coverage")
	dataFlag := fs.String("data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	stateDir := fs.String("state", state.DefaultDir, "state directory written by lawbot ingest")
	file := fs.String("file", "", "dev set (default: the task's file in DATA/eval)")
	legalFile := fs.String("legal", "", "filter: the legal texts (default: the dev questions in DATA/eval); e.g. evaluation/testdata/short_legal.dev.jsonl with --file evaluation/testdata/short_nonlegal.dev.jsonl")
	k := fs.Int("k", 10, "cut-off for Recall@k / Hit@k / MRR@k")
	explain := fs.String("explain", "", "print the ranking of the query with this id, with its reasons")
	asJSON := fs.Bool("json", false, "print the metrics as JSON")
	vectorStore := fs.String("vector-store", "embedded", service.VectorStoreUsage)
	var mo service.ModelConfig
	finishModels := modelFlags(fs, &mo)
	n := fs.Int("n", 60, "answer: how many Q&A pairs to ask (0: every pair whose answer cites an article); holding with --folds: how many corpus decisions (default 600)")
	folds := fs.Int("folds", 5, "answer: folds the pairs are split into (figures are mean ± spread over them); holding / question: set it to measure on K folds of the corpus's decisions / Q&A pairs first, then the dev set")
	seed := fs.Uint64("seed", 1, "answer: the sample's seed")
	var params listFlag
	fs.Var(&params, "param", "override a retrieval parameter, name=value (repeatable)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if err := finishModels(); err != nil {
		fmt.Fprintf(stderr, "lawbot eval: %v\n", err)
		return errUsage
	}
	t, ok := evalTasks[*task]
	if !ok {
		fmt.Fprintf(stderr, "lawbot eval: unknown task %q (holding, question, filter, answer, coverage)\n", *task)
		return errUsage
	}
	dataDir, err := law.ResolveDataDir(*dataFlag)
	if err != nil {
		return err
	}
	resolved, err := state.ResolveStateDir(*stateDir)
	if err != nil {
		return err
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	opt := evalOptions{DataDir: dataDir, StateDir: resolved, File: *file, LegalFile: *legalFile, K: *k, Explain: *explain, JSON: *asJSON, Params: params,
		VectorStore: *vectorStore, Models: mo, N: *n, Folds: *folds, Seed: *seed}
	if (*task == "holding" || *task == "question") && set["folds"] {
		opt.CorpusFolds = true
		if !set["n"] {
			opt.N = 600
		}
	}
	if opt.File == "" && t.file != "" {
		opt.File = filepath.Join(dataDir, "eval", t.file)
	}
	if opt.File == "" && *task == "coverage" {
		opt.File = evaluation.CoverageFile // the project's own questions, from the repository root
	}
	if opt.N < 0 || opt.Folds <= 0 {
		return fmt.Errorf("--n must not be negative and --folds must be positive (got %d, %d)", opt.N, opt.Folds)
	}
	if opt.K <= 0 {
		return fmt.Errorf("--k must be positive, got %d", opt.K)
	}
	return t.run(opt, stdout, stderr)
}
