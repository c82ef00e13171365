package models

import (
	"errors"
	"time"
)

// GeneratorModelName is the generator's name in the residency manager, `lawbot models` and
// /metrics.
const GeneratorModelName = "generator"

// GenerateOptions shape one generation. The zero value of a field means its default.
type GenerateOptions struct {
	// MaxTokens bounds the tokens generated (default 256).
	MaxTokens int
	// Temperature 0 is greedy decoding; above 0 samples from the softened distribution.
	Temperature float32
	// TopP keeps the smallest set of tokens whose probability reaches it (default 1: all).
	TopP float32
	// RepetitionPenalty divides the logits of tokens already in the prompt or the output
	// (positive logits; negative ones are multiplied), as in CTRL; 1 or 0 is none.
	RepetitionPenalty float32
	// Stop ends the generation when the output ends with one of these strings; the stop string
	// itself is not emitted.
	Stop []string
	// Seed makes sampling repeatable; 0 picks one.
	Seed int64
}

// GenerateStats say how a generation went.
type GenerateStats struct {
	PromptTokens int
	Tokens       int           // generated (emitted or not)
	FirstToken   time.Duration // from the call to the first token: queue wait + prefill + one step
	Total        time.Duration
	// StopReason is "stop" (a stop string), "eos" (the model's end of text), "length"
	// (MaxTokens or the context), "emit" (emit returned an error) or "canceled".
	StopReason string
}

// TokensPerSecond is the decode speed: tokens after the first over the time after it.
func (s GenerateStats) TokensPerSecond() float64 {
	d := s.Total - s.FirstToken
	if s.Tokens < 2 || d <= 0 {
		return 0
	}
	return float64(s.Tokens-1) / d.Seconds()
}

// ErrModelBusy is a generation refused because the generator's queue is full: the caller should
// retry later (the API codes it MODEL_BUSY), not wait.
var ErrModelBusy = errors.New("the generator is busy: its queue is full")

// ErrPromptTooLong is a prompt with no room left in the context for a single generated token.
var ErrPromptTooLong = errors.New("the prompt fills the generator's context")

// ErrModelsUnavailable is a call no model server could take: none is healthy (all down,
// ejected or loading). The caller serves without the model (the extractive answer, lexical
// retrieval) and says so.
var ErrModelsUnavailable = errors.New("no model server is available")
