package models

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
)

// The encoder, the tagger and the LSA as the residency manager keeps them: each call acquires
// the model (loading it when it is not loaded) and releases it when the work on it is over, so
// that an on-demand model is released when idle and evicted under the budget, and loaded again
// by the next call. A call whose ctx ends returns ctx's error at once; the run in flight goes on
// in the background, holding the model, and its result is dropped.

// encoderModel is what ManagedEncoder needs of the loaded encoder (*TFEncoder).
type encoderModel interface {
	Dim() int
	// embedBatch returns once its last run has returned; it starts no run after ctx ends.
	embedBatch(ctx context.Context, texts []string) ([][]float32, error)
}

// taggerModel is what ManagedTagger needs of the loaded tagger (*TFTagger).
type taggerModel interface {
	Labels() []string
	// tagBatch returns once its last run has returned; it starts no run after ctx ends.
	tagBatch(ctx context.Context, texts []string) ([][]float32, error)
}

// lsaModel is what ManagedLSA needs of the loaded LSA embedding (*LSA).
type lsaModel interface {
	Embedder
	EmbedCounts([]TermCount) []float32
}

// DefaultWait bounds how long a call without a ctx of its own (Tag, Embed) waits for its model to
// load and run.
const DefaultWait = 10 * time.Second

// acquireAs acquires the named model and checks it is an M; on an error nothing stays acquired.
func acquireAs[M any](ctx context.Context, res Residency, name string) (M, func(), error) {
	var zero M
	m, release, err := res.Acquire(ctx, name)
	if err != nil {
		return zero, nil, err
	}
	typed, ok := m.(M)
	if !ok {
		release()
		return zero, nil, fmt.Errorf("model %s is a %T, not the model asked for", name, m)
	}
	return typed, release, nil
}

// use runs work on the named model, acquired for as long as work runs (which may be longer than
// the call, when ctx ends first: see abandon).
func use[M, T any](ctx context.Context, res Residency, name string, work func(M) (T, error)) (T, error) {
	m, release, err := acquireAs[M](ctx, res, name)
	if err != nil {
		var zero T
		return zero, err
	}
	return abandon(ctx, func() (T, error) { return work(m) }, release)
}

// waitContext is the context of a call that has none: DefaultWait, or wait when set.
func waitContext(wait time.Duration) (context.Context, context.CancelFunc) {
	if wait <= 0 {
		wait = DefaultWait
	}
	return context.WithTimeout(context.Background(), wait)
}

// ManagedEncoder is the trained encoder under the residency manager (resident by the policy:
// it embeds the query of every request). It serves as the dense side's embedder.
type ManagedEncoder struct {
	models Residency
	name   string
	dim    int
	dir    string
}

// NewManagedEncoder acquires the named encoder once (loading it if it is not loaded, so that a
// model that cannot load stops the caller), learns its dimension and releases it.
func NewManagedEncoder(ctx context.Context, res Residency, name string) (*ManagedEncoder, error) {
	m, release, err := acquireAs[encoderModel](ctx, res, name)
	if err != nil {
		return nil, err
	}
	defer release()
	e := &ManagedEncoder{models: res, name: name, dim: m.Dim()}
	if d, ok := m.(interface{ Dir() string }); ok {
		e.dir = d.Dir()
	}
	return e, nil
}

// Dim is the embedding size.
func (e *ManagedEncoder) Dim() int { return e.dim }

// Dir is the encoder's SavedModel directory ("" for a model without one).
func (e *ManagedEncoder) Dir() string { return e.dir }

// EmbedBatchContext embeds texts; when ctx ends first it returns ctx's error at once.
func (e *ManagedEncoder) EmbedBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	return use(ctx, e.models, e.name, func(m encoderModel) ([][]float32, error) { return m.embedBatch(ctx, texts) })
}

// EmbedBatch embeds texts (the corpus, when its vectors are built).
func (e *ManagedEncoder) EmbedBatch(texts []string) ([][]float32, error) {
	return e.EmbedBatchContext(context.Background(), texts)
}

// EmbedContext embeds one text; when ctx ends first it returns ctx's error at once.
func (e *ManagedEncoder) EmbedContext(ctx context.Context, text string) ([]float32, error) {
	v, err := e.EmbedBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return v[0], nil
}

// Embed embeds one text, waiting at most DefaultWait; on an error it returns the zero vector,
// which matches nothing.
func (e *ManagedEncoder) Embed(text string) []float32 {
	ctx, cancel := waitContext(0)
	defer cancel()
	v, err := e.EmbedContext(ctx, text)
	if err != nil {
		return make([]float32, e.dim)
	}
	return v
}

var _ Embedder = (*ManagedEncoder)(nil)

// ManagedTagger is the statute tagger under the residency manager (on demand by the policy):
// loaded by the first question after it was released, released after the idle timeout.
type ManagedTagger struct {
	models Residency
	name   string
	labels []string
	// Wait bounds Tag, which has no ctx of its own (default DefaultWait): the load of a
	// released tagger and its run.
	Wait time.Duration
}

// NewManagedTagger acquires the named tagger once (loading it if it is not loaded, so that a
// model that cannot load stops the caller), learns its labels and releases it; the manager
// then keeps it as its placement says.
func NewManagedTagger(ctx context.Context, res Residency, name string) (*ManagedTagger, error) {
	m, release, err := acquireAs[taggerModel](ctx, res, name)
	if err != nil {
		return nil, err
	}
	defer release()
	return &ManagedTagger{models: res, name: name, labels: m.Labels()}, nil
}

// Labels are the label (article id) of each score index.
func (t *ManagedTagger) Labels() []string { return t.labels }

// TagBatchContext scores texts; when ctx ends first it returns ctx's error at once.
func (t *ManagedTagger) TagBatchContext(ctx context.Context, texts []string) ([][]float32, error) {
	return use(ctx, t.models, t.name, func(m taggerModel) ([][]float32, error) { return m.tagBatch(ctx, texts) })
}

// TagContext scores one text; when ctx ends first it returns ctx's error at once.
func (t *ManagedTagger) TagContext(ctx context.Context, text string) ([]float32, error) {
	s, err := t.TagBatchContext(ctx, []string{text})
	if err != nil {
		return nil, err
	}
	return s[0], nil
}

// Tag scores one text, loading the tagger first when it is not loaded; it waits at most Wait.
func (t *ManagedTagger) Tag(text string) ([]float32, error) {
	ctx, cancel := waitContext(t.Wait)
	defer cancel()
	return t.TagContext(ctx, text)
}

// ManagedLSA is the LSA embedding under the residency manager (resident by the policy when it
// serves: it embeds the query of every request). Its work is a few microseconds of Go, so calls
// run on the caller's goroutine.
type ManagedLSA struct {
	models Residency
	name   string
	dim    int
}

// NewManagedLSA acquires the named LSA once (loading it if it is not loaded), learns its
// dimension and releases it.
func NewManagedLSA(ctx context.Context, res Residency, name string) (*ManagedLSA, error) {
	m, release, err := acquireAs[lsaModel](ctx, res, name)
	if err != nil {
		return nil, err
	}
	defer release()
	return &ManagedLSA{models: res, name: name, dim: m.Dim()}, nil
}

// Dim is the embedding size.
func (e *ManagedLSA) Dim() int { return e.dim }

// embed runs f on the LSA; the zero vector when it cannot be had.
func (e *ManagedLSA) embed(f func(lsaModel) []float32) []float32 {
	ctx, cancel := waitContext(0)
	defer cancel()
	m, release, err := acquireAs[lsaModel](ctx, e.models, e.name)
	if err != nil {
		return make([]float32, e.dim)
	}
	defer release()
	return f(m)
}

// Embed embeds one text.
func (e *ManagedLSA) Embed(text string) []float32 {
	return e.embed(func(m lsaModel) []float32 { return m.Embed(text) })
}

// EmbedCounts embeds a text's morpheme counts (the query's analysis, reused).
func (e *ManagedLSA) EmbedCounts(counts []TermCount) []float32 {
	return e.embed(func(m lsaModel) []float32 { return m.EmbedCounts(counts) })
}

// LSASpec registers the LSA embedding saved at path with the residency manager, its size on
// disk as the first estimate. opened, when not nil, is that file loaded already (the dense store
// loads it to check its vectors against it): the first load takes it instead of reading the
// file a second time; a later one reads the file.
func LSASpec(path string, bytes int64, resident bool, opened *LSA, analyzer MorphemeAnalyzer) gpu.Spec {
	var first atomic.Pointer[LSA]
	first.Store(opened)
	return gpu.Spec{Name: LSAModelName, Backend: gpu.BackendGo, Resident: resident, Bytes: bytes,
		Load: func(context.Context) (gpu.Model, error) {
			if e := first.Swap(nil); e != nil {
				return e, nil
			}
			e, err := LoadLSA(path, analyzer)
			if err != nil {
				return nil, err
			}
			return e, nil
		}}
}

// generatorModel is what ManagedGenerator needs of the loaded generator (*TFGenerator).
type generatorModel interface {
	Generate(ctx context.Context, prompt string, opt GenerateOptions, emit func(piece string) error) (GenerateStats, error)
	CountTokens(text string) int
	MaxContext() int
	Name() string
}

// ManagedGenerator is the generator under the residency manager (resident by the policy: a
// language model takes seconds to load, too long for a question to wait). It acquires the model
// for each generation; the generator's own queue shares it between requests.
type ManagedGenerator struct {
	models     Residency
	name       string
	model      string
	maxContext int
	count      func(string) int
	tokenize   func(string) []int32 // nil when the model does not give its ids
}

// NewManagedGenerator acquires the named generator once (loading it if it is not loaded, so
// that a model that cannot load stops the caller), learns its name, context and tokeniser, and
// releases it.
func NewManagedGenerator(ctx context.Context, res Residency, name string) (*ManagedGenerator, error) {
	m, release, err := acquireAs[generatorModel](ctx, res, name)
	if err != nil {
		return nil, err
	}
	defer release()
	g := &ManagedGenerator{models: res, name: name, model: m.Name(), maxContext: m.MaxContext(), count: m.CountTokens}
	if t, ok := m.(interface{ Tokenize(string) []int32 }); ok {
		g.tokenize = t.Tokenize
	}
	return g, nil
}

// Generate continues prompt on the generator, emitting the text as it comes (see
// TFGenerator.Generate). When ctx ends it returns ctx's error at once.
func (g *ManagedGenerator) Generate(ctx context.Context, prompt string, opt GenerateOptions, emit func(piece string) error) (GenerateStats, error) {
	m, release, err := acquireAs[generatorModel](ctx, g.models, g.name)
	if err != nil {
		return GenerateStats{}, err
	}
	defer release()
	return m.Generate(ctx, prompt, opt, emit)
}

// CountTokens is the number of tokens text takes in a prompt (the tokeniser is plain Go: it
// needs no model acquired).
func (g *ManagedGenerator) CountTokens(text string) int { return g.count(text) }

// MaxContext is the most tokens a prompt and its continuation may hold together.
func (g *ManagedGenerator) MaxContext() int { return g.maxContext }

// Tokenize is text's token ids (without the start token); when the model does not give its
// ids, as many zeros as it has tokens.
func (g *ManagedGenerator) Tokenize(text string) []int32 {
	if g.tokenize == nil {
		return make([]int32, g.count(text))
	}
	return g.tokenize(text)
}

// Name names the model and its version, e.g. "gemma3-270m-tf@9170c1f5a595".
func (g *ManagedGenerator) Name() string { return g.model }
