package openai

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/lawbot-kr/lawbot/models"
)

// RemoteGenerator is a generator on the pool's model servers, with the interface of the
// in-process one (advice.TextGenerator): /v1/completions streamed, /tokenize for the prompt's
// budget. The same client talks to LawBot's model-server and to other engines (llama.cpp's
// server, vLLM). Which model and its context are learned from /v1/models once a replica
// answers, so that an API server can start while its model servers are still loading.
type RemoteGenerator struct {
	pool  *Pool
	want  string // the model asked for ("": the generator the servers list)
	fixed int    // the context given by the caller (0: learned)

	mu         sync.Mutex
	resolved   bool
	model      string // the id sent in requests
	maxContext int
}

// NewRemoteGenerator uses the pool's generator named model ("" takes the one /v1/models lists
// as LawBot's generator, or else the only model listed). maxContext 0 takes the model's from
// /v1/models (LawBot's extension) or 2,048. When no replica answers yet it still returns the
// generator, which learns its model on a later call; a model the servers do not list is an
// error.
func NewRemoteGenerator(ctx context.Context, p *Pool, model string, maxContext int) (*RemoteGenerator, error) {
	g := &RemoteGenerator{pool: p, want: model, fixed: maxContext}
	if err := g.resolve(ctx); err != nil {
		var e *Error
		if errors.As(err, &e) && e.Code == CodeUnavailable {
			return g, nil
		}
		return nil, err
	}
	return g, nil
}

// resolve learns the model's id and context from /v1/models, once.
func (g *RemoteGenerator) resolve(ctx context.Context) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resolved {
		return nil
	}
	l, err := g.pool.Models(ctx)
	if err != nil {
		return err
	}
	var card *ModelCard
	for i := range l.Data {
		c := &l.Data[i]
		if c.ID == g.want || (g.want == "" && c.Lawbot != nil && c.Lawbot.Kind == KindGenerator) {
			card = c
			break
		}
	}
	if card == nil && g.want == "" && len(l.Data) == 1 {
		card = &l.Data[0]
	}
	if card == nil {
		ids := make([]string, len(l.Data))
		for i, c := range l.Data {
			ids[i] = c.ID
		}
		return fmt.Errorf("generator %q: the model servers list %q", g.want, ids)
	}
	g.model, g.maxContext = card.ID, g.fixed
	if g.maxContext <= 0 {
		g.maxContext = 2048
		if card.Lawbot != nil && card.Lawbot.MaxContext > 0 {
			g.maxContext = card.Lawbot.MaxContext
		}
	}
	g.resolved = true
	return nil
}

// Name is the model's id as its server reports it ("remote:MODEL" before any server answered).
func (g *RemoteGenerator) Name() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.resolved {
		return g.model
	}
	return "remote:" + g.want
}

// MaxContext is the most tokens a prompt and its continuation may hold together.
func (g *RemoteGenerator) MaxContext() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	switch {
	case g.resolved:
		return g.maxContext
	case g.fixed > 0:
		return g.fixed
	}
	return 2048
}

// countTimeout bounds one /tokenize call.
const countTimeout = 2 * time.Second

// CountTokens asks a replica's /tokenize; when none answers it counts one token per character
// (Gemma's tokeniser gives fewer for Korean text, so the prompt stays within the budget).
func (g *RemoteGenerator) CountTokens(text string) int {
	ctx, cancel := context.WithTimeout(context.Background(), countTimeout)
	defer cancel()
	var out TokenizeResponse
	err := g.pool.do(ctx, func(ctx context.Context, r *Replica) error {
		return g.pool.post(ctx, r, "/tokenize", TokenizeRequest{Content: text}, &out)
	}, nil)
	if err != nil {
		return utf8.RuneCountInString(text)
	}
	return len(out.Tokens)
}

// Generate streams a completion of prompt from a replica, emitting each piece as it arrives.
// A replica that refuses (busy), fails or cannot be reached before the first piece is replaced
// by another; after it, the error is returned (a stream cut midway is CodeStreamCut). No
// healthy replica: CodeUnavailable. A full queue everywhere: models.ErrModelBusy; a prompt
// too long: models.ErrPromptTooLong.
func (g *RemoteGenerator) Generate(ctx context.Context, prompt string, opt models.GenerateOptions, emit func(piece string) error) (models.GenerateStats, error) {
	start := time.Now()
	if err := g.resolve(ctx); err != nil {
		return models.GenerateStats{}, err
	}
	req := CompletionRequest{Model: g.Name(), Prompt: Strings{prompt}, MaxTokens: opt.MaxTokens, Stop: opt.Stop,
		Stream: true, StreamOptions: &StreamOptions{IncludeUsage: true}}
	if req.MaxTokens == 0 {
		req.MaxTokens = 256
	}
	t := opt.Temperature
	req.Temperature = &t
	if opt.TopP > 0 {
		req.TopP = &opt.TopP
	}
	if opt.RepetitionPenalty > 0 {
		req.RepetitionPenalty, req.RepeatPenalty = &opt.RepetitionPenalty, &opt.RepetitionPenalty
	}
	if opt.Seed != 0 {
		req.Seed = &opt.Seed
	}
	var stats models.GenerateStats
	emitted := false
	var emitErr error
	err := g.pool.do(ctx, func(ctx context.Context, r *Replica) error {
		resp, err := g.pool.send(ctx, r, "/v1/completions", req)
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		return readStream(resp, func(c *Completion) error {
			if c.Usage != nil {
				stats.PromptTokens, stats.Tokens = c.Usage.PromptTokens, c.Usage.CompletionTokens
			}
			for _, ch := range c.Choices {
				if ch.Text != "" {
					if !emitted {
						stats.FirstToken = time.Since(start)
						emitted = true
					}
					if emitErr = emit(ch.Text); emitErr != nil {
						return errCallerStopped // the caller's choice, not the replica's failure
					}
				}
				if ch.FinishReason != nil {
					stats.StopReason = *ch.FinishReason
				}
			}
			return nil
		})
	}, func() bool { return !emitted })
	stats.Total = time.Since(start)
	switch {
	case emitErr != nil:
		stats.StopReason = "emit"
		return stats, emitErr
	case ctx.Err() != nil:
		stats.StopReason = "canceled"
		return stats, ctx.Err()
	case err != nil:
		return stats, err // coded: errors.Is finds models.ErrModelBusy & co. in it (Error.Is)
	}
	return stats, nil
}

// readStream reads server-sent events ("data: {json}" lines) until "data: [DONE]", calling fn
// with each chunk. An error event ends it with that error; the body ending before [DONE] is
// CodeStreamCut.
func readStream(resp *http.Response, fn func(*Completion) error) error {
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		line := sc.Text()
		data, ok := strings.CutPrefix(line, "data:")
		if !ok {
			continue // blank separators, comments (": ping"), event names
		}
		data = strings.TrimSpace(data)
		if data == "[DONE]" {
			return nil
		}
		var probe struct {
			Error *ErrorDetail `json:"error"`
		}
		if err := json.Unmarshal([]byte(data), &probe); err != nil {
			return &Error{Code: CodeStreamCut, Message: "a chunk that is not JSON: " + err.Error()}
		}
		if probe.Error != nil {
			code := probe.Error.Code
			if code == "" {
				code = CodeFailed
			}
			return &Error{Status: http.StatusInternalServerError, Code: code, Message: probe.Error.Message}
		}
		var c Completion
		if err := json.Unmarshal([]byte(data), &c); err != nil {
			return &Error{Code: CodeStreamCut, Message: "a chunk that is not a completion: " + err.Error()}
		}
		if err := fn(&c); err != nil {
			return err
		}
	}
	msg := "the stream ended before [DONE]"
	if err := sc.Err(); err != nil {
		msg += ": " + err.Error()
	}
	return &Error{Code: CodeStreamCut, Message: msg}
}

// RemoteEncoder is the encoder on the pool's model servers (/v1/embeddings), with the
// interfaces of the in-process one (models.Embedder, the retriever's ContextEmbedder).
type RemoteEncoder struct {
	pool  *Pool
	model string
	dim   int
}

// NewRemoteEncoder uses the pool's encoder (the model /v1/models lists as LawBot's encoder).
func NewRemoteEncoder(ctx context.Context, p *Pool) (*RemoteEncoder, error) {
	c, err := findKind(ctx, p, KindEncoder)
	if err != nil || c == nil {
		return nil, err
	}
	return &RemoteEncoder{pool: p, model: c.ID, dim: c.Lawbot.Dim}, nil
}

// findKind is the pool's model of a LawBot kind; nil when none is listed.
func findKind(ctx context.Context, p *Pool, kind string) (*ModelCard, error) {
	l, err := p.Models(ctx)
	if err != nil {
		return nil, fmt.Errorf("%s: list the models: %w", kind, err)
	}
	for i := range l.Data {
		if c := &l.Data[i]; c.Lawbot != nil && c.Lawbot.Kind == kind {
			return c, nil
		}
	}
	return nil, nil
}

// Name is the encoder's id.
func (e *RemoteEncoder) Name() string { return e.model }

// Dim is the vector size.
func (e *RemoteEncoder) Dim() int { return e.dim }

// EmbedBatchContext embeds texts on a replica, retried on another when one fails.
func (e *RemoteEncoder) EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	var out EmbeddingList
	err := e.pool.do(ctx, func(ctx context.Context, r *Replica) error {
		return e.pool.post(ctx, r, "/v1/embeddings", EmbeddingRequest{Model: e.model, Input: texts}, &out)
	}, nil)
	if err != nil {
		return nil, err
	}
	if len(out.Data) != len(texts) {
		return nil, fmt.Errorf("encoder: %d vectors for %d texts", len(out.Data), len(texts))
	}
	vecs := make([][]float32, len(texts))
	for _, d := range out.Data {
		if d.Index < 0 || d.Index >= len(vecs) || len(d.Embedding) != e.dim {
			return nil, fmt.Errorf("encoder: vector %d of %d numbers (want %d)", d.Index, len(d.Embedding), e.dim)
		}
		vecs[d.Index] = d.Embedding
	}
	return vecs, nil
}

// EmbedBatch embeds texts within embedTimeout per call (index.BatchEmbedder: encoding the
// corpus on a model server).
func (e *RemoteEncoder) EmbedBatch(texts []string) ([][]float32, error) {
	ctx, cancel := context.WithTimeout(context.Background(), embedTimeout*4)
	defer cancel()
	return e.EmbedBatchContext(ctx, texts)
}

// Version is the encoder's version: its id after "@" (LawBot's model server names it
// "encoder@VERSION"), or the whole id.
func (e *RemoteEncoder) Version() string {
	if _, v, ok := strings.Cut(e.model, "@"); ok {
		return v
	}
	return e.model
}

// EmbedContext embeds one text.
func (e *RemoteEncoder) EmbedContext(ctx context.Context, text string) ([]float32, error) {
	v, err := e.EmbedBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// embedTimeout bounds Embed, which takes no context.
const embedTimeout = 5 * time.Second

// Embed embeds one text; a zero vector when no replica answers.
func (e *RemoteEncoder) Embed(text string) []float32 {
	ctx, cancel := context.WithTimeout(context.Background(), embedTimeout)
	defer cancel()
	v, err := e.EmbedContext(ctx, text)
	if err != nil {
		return make([]float32, e.dim)
	}
	return v
}

// RemoteTagger is the statute tagger on the pool's model servers (/v1/lawbot/tag), with the
// interfaces of the in-process one (advice.ArticleTagger and its context variant).
type RemoteTagger struct {
	pool   *Pool
	model  string
	labels []string
}

// NewRemoteTagger uses the pool's tagger and fetches its labels once.
func NewRemoteTagger(ctx context.Context, p *Pool) (*RemoteTagger, error) {
	c, err := findKind(ctx, p, KindTagger)
	if err != nil || c == nil {
		return nil, err
	}
	var out TagList
	err = p.do(ctx, func(ctx context.Context, r *Replica) error {
		return p.post(ctx, r, "/v1/lawbot/tag", TagRequest{Model: c.ID, LabelsOnly: true}, &out)
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("tagger: labels: %w", err)
	}
	return &RemoteTagger{pool: p, model: c.ID, labels: out.Labels}, nil
}

// Name is the tagger's id.
func (t *RemoteTagger) Name() string { return t.model }

// Labels are the article ids the scores are for, in order.
func (t *RemoteTagger) Labels() []string { return t.labels }

// TagBatchContext scores texts on a replica, retried on another when one fails.
func (t *RemoteTagger) TagBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	var out TagList
	err := t.pool.do(ctx, func(ctx context.Context, r *Replica) error {
		return t.pool.post(ctx, r, "/v1/lawbot/tag", TagRequest{Model: t.model, Input: texts}, &out)
	}, nil)
	if err != nil {
		return nil, err
	}
	if len(out.Data) != len(texts) {
		return nil, fmt.Errorf("tagger: %d score lists for %d texts", len(out.Data), len(texts))
	}
	for i, s := range out.Data {
		if len(s) != len(t.labels) {
			return nil, fmt.Errorf("tagger: %d scores for text %d (want %d)", len(s), i, len(t.labels))
		}
	}
	return out.Data, nil
}

// TagContext scores one text.
func (t *RemoteTagger) TagContext(ctx context.Context, text string) ([]float32, error) {
	s, err := t.TagBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// Tag scores one text within embedTimeout.
func (t *RemoteTagger) Tag(text string) ([]float32, error) {
	ctx, cancel := context.WithTimeout(context.Background(), embedTimeout)
	defer cancel()
	return t.TagContext(ctx, text)
}
