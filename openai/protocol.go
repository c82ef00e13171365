// Package openai is the protocol between LawBot's API servers and its model servers: the
// OpenAI-compatible HTTP API that vLLM, llama.cpp's server, Ollama and text-generation-inference
// also speak, so that either side can be swapped for one of them.
//
// The server side (Handler) serves the models of one process — the generator, the encoder, the
// statute tagger — at /v1/models, /v1/completions, /v1/chat/completions (streamed as server-sent
// events when asked), /v1/embeddings, /tokenize (llama.cpp's token count) and one LawBot
// endpoint, /v1/lawbot/tag, for the tagger. The client side (Pool) spreads calls over replicas
// by least outstanding requests, checks them on /readyz, ejects a failing one for a while,
// retries elsewhere what is safe to retry, and hands the pipeline a generator, an embedder and
// a tagger with the interfaces the in-process models have.
package openai

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/lawbot-kr/lawbot/models"
)

// Codes of the errors the model server answers, in error.code of the body; the client turns
// them back into errors the pipeline knows (ErrModelBusy, ErrPromptTooLong).
const (
	CodeModelBusy     = "MODEL_BUSY"      // 503 with Retry-After: the queue is full
	CodePromptTooLong = "PROMPT_TOO_LONG" // 400: no room left in the context
	CodeBadRequest    = "BAD_REQUEST"     // 400: the body is not a request this endpoint takes
	CodeModelNotFound = "MODEL_NOT_FOUND" // 404: no such model here
	CodeFailed        = "MODEL_FAILED"    // 500: the model failed
	// CodeUnavailable is the client's: no replica is healthy (all down, ejected or not ready).
	CodeUnavailable = "MODELS_UNAVAILABLE"
	// CodeStreamCut is the client's: the stream ended without its last chunk.
	CodeStreamCut = "MODEL_STREAM_CUT"
)

// Model kinds, in /v1/models' lawbot.kind.
const (
	KindGenerator = "generator"
	KindEncoder   = "encoder"
	KindTagger    = "tagger"
)

// ModelList is GET /v1/models.
type ModelList struct {
	Object string      `json:"object"` // "list"
	Data   []ModelCard `json:"data"`
}

// ModelCard is one model. Lawbot is LawBot's extension (absent from other engines' lists).
type ModelCard struct {
	ID      string     `json:"id"`
	Object  string     `json:"object"` // "model"
	Created int64      `json:"created"`
	OwnedBy string     `json:"owned_by"`
	Lawbot  *ModelInfo `json:"lawbot,omitempty"`
}

// ModelInfo says what a model is for and its sizes.
type ModelInfo struct {
	Kind       string `json:"kind"`
	MaxContext int    `json:"max_context,omitempty"` // generator: prompt + continuation, in tokens
	Dim        int    `json:"dim,omitempty"`         // encoder: vector size
	Labels     int    `json:"labels,omitempty"`      // tagger: how many articles it scores
}

// Strings is a JSON string or array of strings (the "prompt", "stop" and "input" fields).
type Strings []string

func (s *Strings) UnmarshalJSON(b []byte) error {
	var one string
	if err := json.Unmarshal(b, &one); err == nil {
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("want a string or an array of strings")
	}
	*s = many
	return nil
}

// CompletionRequest is POST /v1/completions (and the shared part of a chat request).
type CompletionRequest struct {
	Model       string   `json:"model"`
	Prompt      Strings  `json:"prompt"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float32 `json:"temperature,omitempty"`
	TopP        *float32 `json:"top_p,omitempty"`
	Stop        Strings  `json:"stop,omitempty"`
	Seed        *int64   `json:"seed,omitempty"`
	// RepetitionPenalty is vLLM's name, RepeatPenalty llama.cpp's: the client sends both, the
	// server reads either.
	RepetitionPenalty *float32       `json:"repetition_penalty,omitempty"`
	RepeatPenalty     *float32       `json:"repeat_penalty,omitempty"`
	Stream            bool           `json:"stream,omitempty"`
	StreamOptions     *StreamOptions `json:"stream_options,omitempty"`
}

// StreamOptions: IncludeUsage adds a last chunk with the usage and no choices.
type StreamOptions struct {
	IncludeUsage bool `json:"include_usage"`
}

// ChatRequest is POST /v1/chat/completions.
type ChatRequest struct {
	CompletionRequest
	Messages []ChatMessage `json:"messages"`
}

// ChatMessage is one turn.
type ChatMessage struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Usage counts tokens.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Completion is a /v1/completions answer, or one chunk of its stream (object
// "text_completion" both ways, as OpenAI and vLLM send it).
type Completion struct {
	ID      string             `json:"id"`
	Object  string             `json:"object"`
	Created int64              `json:"created"`
	Model   string             `json:"model"`
	Choices []CompletionChoice `json:"choices"`
	Usage   *Usage             `json:"usage,omitempty"`
	// Timings are LawBot's (and llama.cpp's): milliseconds to the first token, tokens/s.
	Timings *Timings `json:"timings,omitempty"`
}

// CompletionChoice is the text (or a piece of it) and, at the end, why it stopped.
type CompletionChoice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	FinishReason *string `json:"finish_reason"`
}

// ChatCompletion is a /v1/chat/completions answer or chunk ("chat.completion" /
// "chat.completion.chunk").
type ChatCompletion struct {
	ID      string       `json:"id"`
	Object  string       `json:"object"`
	Created int64        `json:"created"`
	Model   string       `json:"model"`
	Choices []ChatChoice `json:"choices"`
	Usage   *Usage       `json:"usage,omitempty"`
}

// ChatChoice holds the whole message (an answer) or a delta (a chunk).
type ChatChoice struct {
	Index        int          `json:"index"`
	Message      *ChatMessage `json:"message,omitempty"`
	Delta        *ChatMessage `json:"delta,omitempty"`
	FinishReason *string      `json:"finish_reason"`
}

// Timings of a generation on the model server.
type Timings struct {
	FirstTokenMS    float64 `json:"first_token_ms"`
	TokensPerSecond float64 `json:"predicted_per_second"`
}

// EmbeddingRequest is POST /v1/embeddings.
type EmbeddingRequest struct {
	Model string  `json:"model"`
	Input Strings `json:"input"`
}

// EmbeddingList is its answer.
type EmbeddingList struct {
	Object string      `json:"object"` // "list"
	Data   []Embedding `json:"data"`
	Model  string      `json:"model"`
	Usage  Usage       `json:"usage"`
}

// Embedding is one input's vector.
type Embedding struct {
	Object    string    `json:"object"` // "embedding"
	Index     int       `json:"index"`
	Embedding []float32 `json:"embedding"`
}

// TagRequest is POST /v1/lawbot/tag: the statute tagger's scores for each input. With
// LabelsOnly the answer holds the labels (the article ids, in score order) and no scores.
type TagRequest struct {
	Model      string  `json:"model"`
	Input      Strings `json:"input"`
	LabelsOnly bool    `json:"labels_only,omitempty"`
}

// TagList is its answer.
type TagList struct {
	Model  string      `json:"model"`
	Labels []string    `json:"labels,omitempty"`
	Data   [][]float32 `json:"data,omitempty"`
}

// TokenizeRequest is POST /tokenize, llama.cpp's shape.
type TokenizeRequest struct {
	Content string `json:"content"`
}

// TokenizeResponse holds the ids (without the start token).
type TokenizeResponse struct {
	Tokens []int32 `json:"tokens"`
}

// ErrorBody is every error answer: {"error": {"message", "type", "code"}}, as OpenAI's API
// writes them; a stream that fails after it began sends one as its last event.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the error itself.
type ErrorDetail struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    string `json:"code"`
}

// Error is an error answer a model server (or the client, for CodeUnavailable and
// CodeStreamCut) gives: its HTTP status, code and message.
type Error struct {
	Status  int
	Code    string
	Message string
}

// Is lets errors.Is see the pipeline's errors in the codes: MODEL_BUSY is models.ErrModelBusy,
// PROMPT_TOO_LONG models.ErrPromptTooLong, MODELS_UNAVAILABLE models.ErrModelsUnavailable.
func (e *Error) Is(target error) bool {
	switch e.Code {
	case CodeModelBusy:
		return target == models.ErrModelBusy
	case CodePromptTooLong:
		return target == models.ErrPromptTooLong
	case CodeUnavailable:
		return target == models.ErrModelsUnavailable
	}
	return false
}

func (e *Error) Error() string {
	if e.Status > 0 {
		return fmt.Sprintf("model server: %s (%d %s)", e.Message, e.Status, e.Code)
	}
	return fmt.Sprintf("model server: %s (%s)", e.Message, e.Code)
}
