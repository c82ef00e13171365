package main

import (
	"fmt"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/service"
)

// modelFlags registers the model flags on fs; finish parses the budget once fs is parsed.
func modelFlags(fs interface {
	StringVar(p *string, name, value, usage string)
	DurationVar(p *time.Duration, name string, value time.Duration, usage string)
	IntVar(p *int, name string, value int, usage string)
}, o *service.ModelConfig) (finish func() error) {
	fs.StringVar(&o.Embedder, "embedder", "auto", "dense embedding: auto (the trained encoder when TensorFlow and the model are there, else the LSA), encoder, lsa")
	fs.StringVar(&o.Tagger, "tagger", "auto", "statute tagger in the ranking: auto (when the default weight is above 0; now it is 0), on, off")
	budget := ""
	fs.StringVar(&budget, "model-budget", "", "memory bound for the loaded models (e.g. 2GiB; empty: none)")
	fs.DurationVar(&o.IdleTimeout, "model-idle", gpu.DefaultIdleTimeout, "on-demand models are released after this long unused")
	fs.IntVar(&o.Threads, "tf-threads", 0, "TensorFlow threads per op (0: one per core)")
	fs.StringVar(&o.Generator, "generator", "extractive", "who writes the answer: extractive (the grounded composer), tf (the language model in STATE/models/generator.v1, or the model servers' with --models), tf:NAME, openai://HOST:PORT/MODEL (an OpenAI-compatible engine, e.g. llama.cpp's server)")
	return func() error {
		if budget != "" {
			b, err := parseBytes(budget)
			if err != nil {
				return fmt.Errorf("--model-budget: %w", err)
			}
			o.BudgetBytes = b
		}
		return service.CheckModelConfig(*o)
	}
}
