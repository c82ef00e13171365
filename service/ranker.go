package service

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/evaluation"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/state"
	"github.com/lawbot-kr/lawbot/training"
)

// RankerQueries is how many corpus decisions the ranker is trained and checked on, and
// RankerFolds in how many folds.
const (
	RankerQueries = 1500
	RankerFolds   = 5
)

func init() {
	training.Register("ranker", "the learned statute ranker (pairwise logistic over the ranking's evidence, on folds of the corpus's decisions)", TrainRanker)
}

// TrainRanker trains the learned statute ranker on the state: RankerQueries corpus decisions'
// 판시사항 (each held out of its own search) give their candidates; RankerFolds-fold
// cross-validation compares it with the hand weights on the same candidates; the model
// trained on all of them is saved with those figures, and marked as winning only when its
// held-out Recall@10 beats the hand weights' on every fold, by more than the gain's spread.
func TrainRanker(ctx context.Context, cfg training.Config) error {
	start := time.Now()
	svc, err := Open(ctx, Config{StateDir: cfg.StateDir, VectorStore: "embedded", NoFilter: true, Stdout: cfg.Stderr, Stderr: cfg.Stderr,
		Params: []string{"learned_ranker=0"}}) // the candidates' hand scores, whatever the default
	if err != nil {
		// Trained with every model (no --only) before an ingest: nothing to rank yet.
		if !cfg.Only && (errors.Is(err, state.ErrNoState) || errors.Is(err, index.ErrNoIndex) || errors.Is(err, index.ErrNoVectors)) {
			fmt.Fprintf(cfg.Stdout, "ranker: skipped: %v\n", err)
			return nil
		}
		return err
	}
	defer svc.Close()
	seed := cfg.Seed
	if seed == 0 {
		seed = 1
	}
	cases := evaluation.CorpusHoldingCases(svc.Pipeline.Retriever, RankerQueries, seed)
	if len(cases) < 2*RankerFolds {
		err := fmt.Errorf("ranker: %d corpus decisions with articles to learn from; need at least %d", len(cases), 2*RankerFolds)
		if cfg.Only {
			return err
		}
		fmt.Fprintf(cfg.Stdout, "%v: skipped\n", err)
		return nil
	}
	queries, err := evaluation.CollectCandidates(ctx, svc.Pipeline, cases, cfg.Stderr)
	if err != nil {
		return err
	}
	opt := evaluation.DefaultRankerOptions()
	opt.Seed = seed
	hand, learned := evaluation.CrossValidateRanker(queries, RankerFolds, opt)
	all := make([]int, len(queries))
	for i := range all {
		all[i] = i
	}
	w, pairs := evaluation.TrainRanker(queries, all, opt)
	info := advice.RankerInfo{Queries: len(queries), Folds: RankerFolds, Pairs: pairs, Epochs: opt.Epochs, L2: opt.L2, Seed: seed}
	info.HandR10, info.HandSD = evaluation.MeanSD(hand)
	info.LearnedR10, info.LearnedSD = evaluation.MeanSD(learned)
	info.Wins = len(hand) > 0
	for i := range hand {
		d := learned[i] - hand[i]
		info.PerFold = append(info.PerFold, d)
		info.Wins = info.Wins && d > 0
	}
	info.Gain, info.GainSD = evaluation.MeanSD(info.PerFold)
	info.Wins = info.Wins && info.Gain > info.GainSD
	r := &advice.StatuteRanker{Features: advice.RankFeatures, Weights: w, MinMatch: evaluation.MinMatch(queries, all), Info: info}
	path := advice.RankerPath(cfg.StateDir)
	if err := r.Save(path); err != nil {
		return err
	}
	verdict := "kept for comparison only (it did not beat the hand weights on every fold by more than the gain's spread)"
	if info.Wins {
		verdict = "it won; --param learned_ranker=1 ranks with it"
	}
	fmt.Fprintf(cfg.Stdout, "ranker: %d corpus queries, %d pairs, %d folds, in %s\n", len(queries), pairs, RankerFolds, time.Since(start).Round(100*time.Millisecond))
	fmt.Fprintf(cfg.Stdout, "  held-out Recall@10 (same candidates): hand weights %.3f ± %.3f, learned %.3f ± %.3f, gain %+.3f ± %.3f per fold: %s\n",
		info.HandR10, info.HandSD, info.LearnedR10, info.LearnedSD, info.Gain, info.GainSD, verdict)
	for i, name := range advice.RankFeatures {
		fmt.Fprintf(cfg.Stdout, "    %-18s %+.3f\n", name, w[i])
	}
	fmt.Fprintf(cfg.Stdout, "  it ranks a query whose best similar precedent matches at least %.3f of it (9 in 10 of its training queries); the hand weights rank the others\n", r.MinMatch)
	fmt.Fprintf(cfg.Stdout, "  wrote %s\n", path)
	return nil
}

// loadRanker puts the state's learned ranker in the pipeline when it won on held-out folds; it
// ranks only with the parameter learned_ranker=1.
func loadRanker(p *advice.Pipeline, stateDir string, log *slog.Logger) {
	r, err := advice.LoadStatuteRanker(advice.RankerPath(stateDir))
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return
	case err != nil:
		log.Warn("learned statute ranker not used", "err", err)
		return
	case !r.Info.Wins:
		log.Info("learned statute ranker not used: it did not beat the hand weights on held-out folds",
			"hand", r.Info.HandR10, "learned", r.Info.LearnedR10)
		return
	}
	p.StatuteRanker = r
}
