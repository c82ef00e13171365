package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/training"
)

func runTrain(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "export" {
		return runTrainExport(args[1:], stdout, stderr)
	}
	fs := newFlags("train", stderr)
	dataFlag := fs.String("data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	stateDir := fs.String("state", state.DefaultDir, "state directory to write the models into (STATE/models)")
	only := fs.String("only", "", "comma-separated models to train (default all: "+training.Names()+")")
	seed := fs.Uint64("seed", 1, "seed for the held-out split and the example order")
	morphemes := fs.Bool("morphemes", true, "use kagome morphemes as filter features (false: character n-grams only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot train: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	selected, err := training.Select(*only)
	if err != nil {
		fmt.Fprintf(stderr, "lawbot train: %v\n", err)
		return errUsage
	}
	dataDir, err := law.ResolveDataDir(*dataFlag)
	if err != nil {
		return err
	}
	return training.Train(context.Background(), training.Config{DataDir: dataDir, StateDir: *stateDir, Seed: *seed,
		Morphemes: *morphemes, Only: strings.TrimSpace(*only) != "", Stdout: stdout, Stderr: stderr}, selected)
}

func runTrainExport(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("train export", stderr)
	stateDir := fs.String("state", state.DefaultDir, "state directory to export (after lawbot ingest)")
	out := fs.String("out", "", "directory to write the export into (required)")
	cfg := training.DefaultExportConfig
	fs.IntVar(&cfg.MaxLen, "max-len", cfg.MaxLen, "longest token sequence")
	fs.IntVar(&cfg.MinDF, "min-df", cfg.MinDF, "texts a token must occur in to enter the vocabulary")
	fs.IntVar(&cfg.MaxVocab, "max-vocab", cfg.MaxVocab, "vocabulary size, [PAD] and [UNK] included")
	fs.IntVar(&cfg.MinLabelCites, "min-cites", cfg.MinLabelCites, "precedents that must cite an article for it to be a tagger label")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 || *out == "" {
		if fs.NArg() > 0 {
			fmt.Fprintf(stderr, "lawbot train export: unexpected argument %q\n", fs.Arg(0))
		} else {
			fmt.Fprintln(stderr, "lawbot train export: --out is required")
		}
		fs.Usage()
		return errUsage
	}
	if cfg.Check() != nil {
		fmt.Fprintln(stderr, "lawbot train export: --max-len, --min-df, --min-cites must be > 0 and --max-vocab ≥ 2")
		return errUsage
	}
	st, err := loadResolved(*stateDir)
	if err != nil {
		return err
	}
	info, err := training.Export(context.Background(), st, search.DefaultAnalyzer(), *out, cfg, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "exported %d texts in %.1fs to %s: vocabulary %d, %d labels, pairs %s, %d tagger examples\n",
		info.Texts, info.Seconds, *out, info.Vocab, info.Labels, info.PairCounts(), info.Tagger)
	return nil
}
