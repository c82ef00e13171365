package service

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/state"
)

// Config says what to open and how.
type Config struct {
	// StateDir is the state directory (ingested; `lawbot ingest` builds it).
	StateDir string
	// State and Indexes, when the caller has them loaded already (serve after an ingest), are
	// used instead of loading them again from StateDir.
	State   *state.State
	Indexes *index.Lexical
	// VectorStore is the dense side: "embedded" (default), "milvus://HOST:PORT" or "none".
	VectorStore string
	// Models chooses and bounds the trained models.
	Models ModelConfig
	// NoFilter opens the pipeline without the legal-question filter (every message is legal):
	// the statute evaluation measures the ranking alone.
	NoFilter bool
	// Warmup answers one question before Open returns, so the first person asking does not pay
	// for cold caches.
	Warmup bool
	// Params override pipeline parameters, name=value (advice.Params.Set), before the warm-up.
	Params []string
	// Status, when set, hears what Open is doing ("loading the trained models"), for /readyz.
	Status func(string)
	// Log receives notes and warnings; Stdout and Stderr the progress of long steps (encoding the
	// corpus for the trained encoder). Nil: discarded.
	Log            *slog.Logger
	Stdout, Stderr io.Writer
}

// Service is an opened state, ready to answer.
type Service struct {
	// Pipeline is the request path the API, the stream and lawbot eval run.
	Pipeline *advice.Pipeline
	// Models are the models under the residency manager (Models.Manager for /metrics).
	Models *Models
}

// Close releases the models and the vector store.
func (s *Service) Close() error {
	if s == nil {
		return nil
	}
	if s.Pipeline != nil && s.Pipeline.Retriever != nil && s.Pipeline.Retriever.Dense != nil {
		s.Pipeline.Retriever.Dense.Close()
	}
	return s.Models.Close()
}

// Open loads everything a request needs: the models under the residency manager, the state and
// its indexes, the analyzer and the vector store, the trained models put to work, the filter,
// and the pipeline over them. On an error whatever was opened is closed again.
func Open(ctx context.Context, cfg Config) (_ *Service, err error) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Stderr == nil {
		cfg.Stderr = io.Discard
	}
	status := func(s string) {
		if cfg.Status != nil {
			cfg.Status(s)
		}
	}
	status("loading the trained models")
	trained, err := LoadModels(ctx, cfg.StateDir, cfg.Models, cfg.Log)
	if err != nil {
		return nil, err
	}
	s := &Service{Models: trained}
	defer func() {
		if err != nil {
			s.Close()
		}
	}()
	// The LSA's vectors are opened only when the trained encoder does not replace them.
	lsaStore := cfg.VectorStore
	if enc, _, _ := trained.denseEncoder(); enc != nil {
		lsaStore = "none"
	}
	status("loading the state, the indexes, the dictionary and the vector store " + cfg.VectorStore)
	var r *advice.Retriever
	if cfg.State != nil && cfg.Indexes != nil {
		r, err = NewRetriever(ctx, cfg.State, cfg.Indexes, lsaStore, cfg.Stderr)
	} else {
		r, err = LoadRetriever(ctx, cfg.StateDir, lsaStore, cfg.Stderr)
	}
	if err != nil {
		return nil, err
	}
	s.Pipeline = advice.NewPipeline(r, nil)
	for _, p := range cfg.Params {
		if err := s.Pipeline.Params.Set(p); err != nil {
			return nil, fmt.Errorf("--param: %w", err)
		}
	}
	loadRanker(s.Pipeline, r.State.Dir, cfg.Log)
	if g := trained.TextGenerator(); g != nil { // --generator tf: the language model writes the answer
		s.Pipeline.Generator = g
	}
	status("putting the trained models to work (the first time, encoding the corpus)")
	if err := UseModels(ctx, s.Pipeline, trained, cfg.VectorStore, cfg.Stdout, cfg.Stderr); err != nil {
		return nil, err
	}
	switch {
	case cfg.NoFilter:
	case trained.Filter != nil:
		// Loaded once now, so that a damaged file stops the start rather than letting every
		// question through; the manager releases it when idle.
		status("loading the legal-question filter")
		_, release, err := trained.Manager.Acquire(ctx, models.FilterModelName)
		if err != nil {
			return nil, fmt.Errorf("legal-question filter: %w", err)
		}
		release()
		s.Pipeline.Filter = trained.Filter
	default:
		cfg.Log.Warn("no legal-question filter (run lawbot train); every message is treated as legal", "model", models.FilterPath(cfg.StateDir))
	}
	if cfg.Warmup {
		status("answering a first question")
		if _, err := s.Pipeline.Advise(ctx, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.", nil); err != nil {
			return nil, fmt.Errorf("warm-up question: %w", err)
		}
	}
	return s, nil
}
