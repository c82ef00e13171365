package openai

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lawbot-kr/lawbot/models"
)

// Generator is what the handler serves at /v1/completions and /v1/chat/completions
// (models.ManagedGenerator).
type Generator interface {
	Name() string
	CountTokens(text string) int
	MaxContext() int
	Generate(ctx context.Context, prompt string, opt models.GenerateOptions, emit func(piece string) error) (models.GenerateStats, error)
	// Tokenize is text's token ids, without the start token (/tokenize).
	Tokenize(text string) []int32
}

// Encoder is what the handler serves at /v1/embeddings (models.ManagedEncoder).
type Encoder interface {
	Dim() int
	EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error)
}

// Tagger is what the handler serves at /v1/lawbot/tag (models.ManagedTagger).
type Tagger interface {
	Labels() []string
	TagBatchContext(ctx context.Context, texts []string) ([][]float32, error)
}

// Served are the models one model server hosts, each with the id it is known by; nil ones are
// not served (their endpoints answer MODEL_NOT_FOUND).
type Served struct {
	Generator   Generator // its id is its Name()
	Encoder     Encoder
	EncoderID   string
	Tagger      Tagger
	TaggerID    string
	CreatedUnix int64 // "created" in /v1/models
}

// HandlerOptions bound the work one model server takes; zero fields take the defaults.
type HandlerOptions struct {
	// MaxInputs caps the texts of one embedding or tagging request (default 64).
	MaxInputs int
	// MaxRunning embedding/tagging requests run at once (default 2), MaxWaiting more wait
	// (default 32); past that a request gets 503 MODEL_BUSY at once. Generations queue in the
	// generator itself (its own bounded queue answers ErrModelBusy).
	MaxRunning, MaxWaiting int
	// Metrics are where the handler counts; nil gives it its own. A server that swaps its
	// handler (a reload) hands each one the same.
	Metrics *Metrics
}

// Handler serves the OpenAI-compatible API over the models of this process.
type Handler struct {
	m       Served
	o       HandlerOptions
	mux     *http.ServeMux
	gate    chan struct{} // running embedding/tagging requests
	waiting atomic.Int64
	seq     atomic.Int64
	met     *Metrics
}

// Metrics are a model server's counters (see Collectors).
type Metrics struct {
	inFlight   *prometheus.GaugeVec
	busy       *prometheus.CounterVec
	tokens     prometheus.Counter
	tokPerSec  prometheus.Histogram
	firstToken prometheus.Histogram
}

// NewHandler serves m.
func NewHandler(m Served, o HandlerOptions) *Handler {
	if o.MaxInputs <= 0 {
		o.MaxInputs = 64
	}
	if o.MaxRunning <= 0 {
		o.MaxRunning = 2
	}
	if o.MaxWaiting <= 0 {
		o.MaxWaiting = 32
	}
	if m.CreatedUnix == 0 {
		m.CreatedUnix = time.Now().Unix()
	}
	h := &Handler{m: m, o: o, mux: http.NewServeMux(), gate: make(chan struct{}, o.MaxRunning), met: o.Metrics}
	if h.met == nil {
		h.met = NewMetrics()
	}
	h.mux.HandleFunc("GET /v1/models", h.listModels)
	h.mux.HandleFunc("POST /v1/completions", func(w http.ResponseWriter, r *http.Request) { h.complete(w, r, false) })
	h.mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) { h.complete(w, r, true) })
	h.mux.HandleFunc("POST /v1/embeddings", h.embed)
	h.mux.HandleFunc("POST /v1/lawbot/tag", h.tag)
	h.mux.HandleFunc("POST /tokenize", h.tokenize)
	h.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		WriteError(w, &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "no such endpoint: " + r.Method + " " + r.URL.Path})
	})
	return h
}

// NewMetrics makes a model server's counters.
func NewMetrics() *Metrics {
	return &Metrics{
		inFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "lawbot_modelserver_requests_in_flight",
			Help: "Model requests running or waiting (the queue's depth), by endpoint."}, []string{"endpoint"}),
		busy: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "lawbot_modelserver_busy_total",
			Help: "Model requests refused with MODEL_BUSY (queue full), by endpoint."}, []string{"endpoint"}),
		tokens: prometheus.NewCounter(prometheus.CounterOpts{Name: "lawbot_modelserver_generated_tokens_total",
			Help: "Tokens generated."}),
		tokPerSec: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lawbot_modelserver_decode_tokens_per_second",
			Help:    "Decode speed of each generation (tokens after the first over the time after it).",
			Buckets: []float64{2, 5, 10, 15, 20, 30, 50, 100, 200, 500}}),
		firstToken: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "lawbot_modelserver_first_token_seconds",
			Help:    "Time to the first token of each generation (queue wait + prefill + one step).",
			Buckets: prometheus.ExponentialBuckets(0.05, 2, 10)}),
	}
}

// Collectors are the metrics, for the server's registry: requests in flight and refused by
// endpoint, tokens generated, decode speed, time to the first token.
func (m *Metrics) Collectors() []prometheus.Collector {
	return []prometheus.Collector{m.inFlight, m.busy, m.tokens, m.tokPerSec, m.firstToken}
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.mux.ServeHTTP(w, r) }

// Models lists what the handler serves, as /v1/models does.
func (h *Handler) Models() ModelList {
	l := ModelList{Object: "list", Data: []ModelCard{}}
	add := func(id string, info ModelInfo) {
		l.Data = append(l.Data, ModelCard{ID: id, Object: "model", Created: h.m.CreatedUnix, OwnedBy: "lawbot", Lawbot: &info})
	}
	if g := h.m.Generator; g != nil {
		add(g.Name(), ModelInfo{Kind: KindGenerator, MaxContext: g.MaxContext()})
	}
	if e := h.m.Encoder; e != nil {
		add(h.m.EncoderID, ModelInfo{Kind: KindEncoder, Dim: e.Dim()})
	}
	if t := h.m.Tagger; t != nil {
		add(h.m.TaggerID, ModelInfo{Kind: KindTagger, Labels: len(t.Labels())})
	}
	return l
}

func (h *Handler) listModels(w http.ResponseWriter, r *http.Request) { writeJSON(w, h.Models()) }

// decode reads a JSON request body into v; a body that is not one is a 400 BAD_REQUEST.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	if err := json.NewDecoder(r.Body).Decode(v); err != nil {
		WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: "the body is not this endpoint's JSON request: " + err.Error()})
		return false
	}
	return true
}

// pick checks the request's model against the served one of a kind ("" takes it).
func pick(w http.ResponseWriter, asked, id string, have bool, kind string) bool {
	if !have || (asked != "" && asked != id) {
		msg := fmt.Sprintf("no %s %q here", kind, asked)
		if have {
			msg += fmt.Sprintf(" (this server's %s is %q)", kind, id)
		}
		WriteError(w, &Error{Status: http.StatusNotFound, Code: CodeModelNotFound, Message: msg})
		return false
	}
	return true
}

// generateOptions checks a completion request's settings and turns them into the generator's.
func generateOptions(req *CompletionRequest, maxContext int) (models.GenerateOptions, error) {
	o := models.GenerateOptions{MaxTokens: req.MaxTokens, Stop: req.Stop}
	if req.MaxTokens < 0 || req.MaxTokens > maxContext {
		return o, fmt.Errorf("max_tokens %d: want 0 (the default) to %d", req.MaxTokens, maxContext)
	}
	if t := req.Temperature; t != nil {
		if *t < 0 || *t > 2 {
			return o, fmt.Errorf("temperature %g: want 0 to 2", *t)
		}
		o.Temperature = *t
	}
	if p := req.TopP; p != nil {
		if *p <= 0 || *p > 1 {
			return o, fmt.Errorf("top_p %g: want above 0, at most 1", *p)
		}
		o.TopP = *p
	}
	pen := req.RepetitionPenalty
	if pen == nil {
		pen = req.RepeatPenalty
	}
	if pen != nil {
		if *pen < 0 || *pen > 10 {
			return o, fmt.Errorf("repetition_penalty %g: want 0 to 10", *pen)
		}
		o.RepetitionPenalty = *pen
	}
	if len(req.Stop) > 8 {
		return o, fmt.Errorf("%d stop strings: at most 8", len(req.Stop))
	}
	if req.Seed != nil {
		o.Seed = *req.Seed
	}
	return o, nil
}

// chatPrompt is the prompt a chat request stands for. LawBot's generator is a base model
// fine-tuned on plain prompts, without a chat template: the turns' contents are joined by a blank
// line, and the continuation is the assistant's turn.
func chatPrompt(msgs []ChatMessage) (string, error) {
	if len(msgs) == 0 {
		return "", errors.New("messages: at least one")
	}
	parts := make([]string, 0, len(msgs))
	for i, m := range msgs {
		switch m.Role {
		case "system", "user", "assistant":
		default:
			return "", fmt.Errorf("messages[%d].role %q: system, user or assistant", i, m.Role)
		}
		parts = append(parts, m.Content)
	}
	return strings.Join(parts, "\n\n"), nil
}

func finishReason(stop string) string {
	if stop == "length" {
		return "length"
	}
	return "stop"
}

// complete serves a completion or a chat completion, whole or streamed.
func (h *Handler) complete(w http.ResponseWriter, r *http.Request, chat bool) {
	endpoint := "completions"
	if chat {
		endpoint = "chat"
	}
	g := h.met.inFlight.WithLabelValues(endpoint)
	g.Inc()
	defer g.Dec()
	var req ChatRequest
	if !decode(w, r, &req) {
		return
	}
	gen := h.m.Generator
	if !pick(w, req.Model, nameOf(gen), gen != nil, KindGenerator) {
		return
	}
	prompt := ""
	if chat {
		var err error
		if prompt, err = chatPrompt(req.Messages); err != nil {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: err.Error()})
			return
		}
	} else {
		if len(req.Prompt) != 1 {
			WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf("prompt: one string (got %d)", len(req.Prompt))})
			return
		}
		prompt = req.Prompt[0]
	}
	opt, err := generateOptions(&req.CompletionRequest, gen.MaxContext())
	if err != nil {
		WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: err.Error()})
		return
	}
	id := fmt.Sprintf("cmpl-%d-%d", time.Now().UnixNano(), h.seq.Add(1))
	s := &stream{w: w, id: id, model: gen.Name(), created: time.Now().Unix(), chat: chat, sse: req.Stream}
	var text strings.Builder
	stats, err := gen.Generate(r.Context(), prompt, opt, func(piece string) error {
		if !req.Stream {
			text.WriteString(piece)
			return nil
		}
		return s.piece(piece)
	})
	if r.Context().Err() != nil {
		return // the client went away; nobody reads an answer
	}
	if err != nil {
		if errors.Is(err, models.ErrModelBusy) {
			h.met.busy.WithLabelValues(endpoint).Inc()
		}
		s.fail(generationError(err))
		return
	}
	h.met.tokens.Add(float64(stats.Tokens))
	if stats.Tokens > 0 {
		h.met.firstToken.Observe(stats.FirstToken.Seconds())
	}
	if tps := stats.TokensPerSecond(); tps > 0 {
		h.met.tokPerSec.Observe(tps)
	}
	usage := Usage{PromptTokens: stats.PromptTokens, CompletionTokens: stats.Tokens, TotalTokens: stats.PromptTokens + stats.Tokens}
	timings := &Timings{FirstTokenMS: float64(stats.FirstToken.Microseconds()) / 1000, TokensPerSecond: stats.TokensPerSecond()}
	if !req.Stream {
		s.whole(text.String(), finishReason(stats.StopReason), usage, timings)
		return
	}
	s.end(finishReason(stats.StopReason), usage, timings, req.StreamOptions != nil && req.StreamOptions.IncludeUsage)
}

func nameOf(g Generator) string {
	if g == nil {
		return ""
	}
	return g.Name()
}

// generationError is the coded answer for a failed generation.
func generationError(err error) *Error {
	switch {
	case errors.Is(err, models.ErrModelBusy):
		return &Error{Status: http.StatusServiceUnavailable, Code: CodeModelBusy, Message: "the generator's queue is full; retry shortly"}
	case errors.Is(err, models.ErrPromptTooLong):
		return &Error{Status: http.StatusBadRequest, Code: CodePromptTooLong, Message: err.Error()}
	default:
		return &Error{Status: http.StatusInternalServerError, Code: CodeFailed, Message: "the generator failed: " + err.Error()}
	}
}

// gated runs a bounded request: at most MaxRunning at once and MaxWaiting waiting, beyond which
// it answers 503 MODEL_BUSY at once.
func (h *Handler) gated(w http.ResponseWriter, r *http.Request, endpoint string, run func()) {
	g := h.met.inFlight.WithLabelValues(endpoint)
	g.Inc()
	defer g.Dec()
	select {
	case h.gate <- struct{}{}:
	default:
		if h.waiting.Add(1) > int64(h.o.MaxWaiting) {
			h.waiting.Add(-1)
			h.met.busy.WithLabelValues(endpoint).Inc()
			WriteError(w, &Error{Status: http.StatusServiceUnavailable, Code: CodeModelBusy, Message: "the model server's queue is full; retry shortly"})
			return
		}
		select {
		case h.gate <- struct{}{}:
			h.waiting.Add(-1)
		case <-r.Context().Done():
			h.waiting.Add(-1)
			return
		}
	}
	defer func() { <-h.gate }()
	run()
}

func (h *Handler) inputs(w http.ResponseWriter, in Strings) bool {
	if len(in) == 0 || len(in) > h.o.MaxInputs {
		WriteError(w, &Error{Status: http.StatusBadRequest, Code: CodeBadRequest, Message: fmt.Sprintf("input: 1 to %d texts (got %d)", h.o.MaxInputs, len(in))})
		return false
	}
	return true
}

func (h *Handler) embed(w http.ResponseWriter, r *http.Request) {
	var req EmbeddingRequest
	if !decode(w, r, &req) || !pick(w, req.Model, h.m.EncoderID, h.m.Encoder != nil, KindEncoder) || !h.inputs(w, req.Input) {
		return
	}
	h.gated(w, r, "embeddings", func() {
		vecs, err := h.m.Encoder.EmbedBatchContext(r.Context(), req.Input)
		if err != nil {
			if r.Context().Err() == nil {
				WriteError(w, &Error{Status: http.StatusInternalServerError, Code: CodeFailed, Message: "the encoder failed: " + err.Error()})
			}
			return
		}
		out := EmbeddingList{Object: "list", Model: h.m.EncoderID, Data: make([]Embedding, len(vecs))}
		for i, v := range vecs {
			out.Data[i] = Embedding{Object: "embedding", Index: i, Embedding: v}
		}
		writeJSON(w, out)
	})
}

func (h *Handler) tag(w http.ResponseWriter, r *http.Request) {
	var req TagRequest
	if !decode(w, r, &req) || !pick(w, req.Model, h.m.TaggerID, h.m.Tagger != nil, KindTagger) {
		return
	}
	if req.LabelsOnly {
		writeJSON(w, TagList{Model: h.m.TaggerID, Labels: h.m.Tagger.Labels()})
		return
	}
	if !h.inputs(w, req.Input) {
		return
	}
	h.gated(w, r, "tag", func() {
		scores, err := h.m.Tagger.TagBatchContext(r.Context(), req.Input)
		if err != nil {
			if r.Context().Err() == nil {
				WriteError(w, &Error{Status: http.StatusInternalServerError, Code: CodeFailed, Message: "the tagger failed: " + err.Error()})
			}
			return
		}
		writeJSON(w, TagList{Model: h.m.TaggerID, Data: scores})
	})
}

func (h *Handler) tokenize(w http.ResponseWriter, r *http.Request) {
	var req TokenizeRequest
	if !decode(w, r, &req) || !pick(w, "", nameOf(h.m.Generator), h.m.Generator != nil, KindGenerator) {
		return
	}
	ids := h.m.Generator.Tokenize(req.Content)
	if ids == nil {
		ids = []int32{}
	}
	writeJSON(w, TokenizeResponse{Tokens: ids})
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(v)
}

func errorType(status int) string {
	switch {
	case status == http.StatusServiceUnavailable:
		return "server_busy"
	case status >= 500:
		return "server_error"
	default:
		return "invalid_request_error"
	}
}

// WriteError answers an error in OpenAI's shape; a 503 says when to retry.
func WriteError(w http.ResponseWriter, e *Error) {
	if e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	json.NewEncoder(w).Encode(ErrorBody{Error: ErrorDetail{Message: e.Message, Type: errorType(e.Status), Code: e.Code}})
}

// stream writes a generation's answer: whole, or as server-sent events ("data: {json}\n\n"
// chunks, then "data: [DONE]"). The status and the headers go out with the first piece, so a
// generation refused before its first token still gets its own status (503, 400).
type stream struct {
	w       http.ResponseWriter
	id      string
	model   string
	created int64
	chat    bool
	sse     bool
	started bool
}

func (s *stream) begin() {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // proxies pass the events as they come
	s.w.WriteHeader(http.StatusOK)
}

func (s *stream) event(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(s.w, "data: %s\n\n", b); err != nil {
		return err // the client went away: stop generating
	}
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
	return nil
}

func (s *stream) chunk(text string, finish *string, usage *Usage, timings *Timings) any {
	if s.chat {
		c := ChatCompletion{ID: s.id, Object: "chat.completion.chunk", Created: s.created, Model: s.model, Usage: usage, Choices: []ChatChoice{}}
		if usage == nil {
			c.Choices = []ChatChoice{{Delta: &ChatMessage{Role: "assistant", Content: text}, FinishReason: finish}}
		}
		return c
	}
	c := Completion{ID: s.id, Object: "text_completion", Created: s.created, Model: s.model, Usage: usage, Timings: timings, Choices: []CompletionChoice{}}
	if usage == nil {
		c.Choices = []CompletionChoice{{Text: text, FinishReason: finish}}
	}
	return c
}

func (s *stream) piece(text string) error {
	s.begin()
	return s.event(s.chunk(text, nil, nil, nil))
}

func (s *stream) end(finish string, usage Usage, timings *Timings, withUsage bool) {
	s.begin()
	if s.event(s.chunk("", &finish, nil, timings)) != nil {
		return
	}
	if withUsage {
		if s.event(s.chunk("", nil, &usage, nil)) != nil {
			return
		}
	}
	io.WriteString(s.w, "data: [DONE]\n\n")
	if f, ok := s.w.(http.Flusher); ok {
		f.Flush()
	}
}

// fail answers an error: with its status before the stream began, else as the stream's last
// event (no [DONE] follows, so the client knows it was cut).
func (s *stream) fail(e *Error) {
	if !s.started {
		WriteError(s.w, e)
		return
	}
	s.event(ErrorBody{Error: ErrorDetail{Message: e.Message, Type: errorType(e.Status), Code: e.Code}})
}

func (s *stream) whole(text, finish string, usage Usage, timings *Timings) {
	if s.chat {
		writeJSON(s.w, ChatCompletion{ID: s.id, Object: "chat.completion", Created: s.created, Model: s.model, Usage: &usage,
			Choices: []ChatChoice{{Message: &ChatMessage{Role: "assistant", Content: text}, FinishReason: &finish}}})
		return
	}
	writeJSON(s.w, Completion{ID: s.id, Object: "text_completion", Created: s.created, Model: s.model, Usage: &usage, Timings: timings,
		Choices: []CompletionChoice{{Text: text, FinishReason: &finish}}})
}

// retryAfter reads a Retry-After header in seconds (0 when absent or not seconds).
func retryAfter(h http.Header) time.Duration {
	n, err := strconv.Atoi(h.Get("Retry-After"))
	if err != nil || n < 0 {
		return 0
	}
	return time.Duration(n) * time.Second
}
