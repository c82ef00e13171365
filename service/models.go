package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/openai"
	"github.com/lawbot-kr/lawbot/search"
)

// TaggerOnWeight and TaggerOnConfidence are the tagger's weight and confidence gate under
// --tagger on, tuned on the holding dev set (the default weight is 0: on the question set the
// tagger lowers Recall@10).
const (
	TaggerOnWeight     = 1
	TaggerOnConfidence = 1
)

// ModelConfig chooses and bounds the trained models a server or an evaluation uses.
type ModelConfig struct {
	// Embedder is the dense side's embedding: auto (the trained encoder when it and TensorFlow
	// are there, else the LSA), encoder (required), or lsa.
	Embedder string
	// Tagger: auto (the statute tagger when it and TensorFlow are there), on (required), off.
	Tagger      string
	BudgetBytes int64
	IdleTimeout time.Duration
	Threads     int // TensorFlow intra-op threads; 0: one per core
	// Generator writes the answer: extractive or "" (the grounded composer; the generator is not
	// loaded), tf (the language model in STATE/models/generator.v1, through TensorFlow, required),
	// or tf:NAME (the model in STATE/models/NAME.v1 instead, e.g. a fine-tuned one), or
	// openai://HOST:PORT/MODEL (an engine speaking the OpenAI-compatible API, e.g. llama.cpp's
	// server). With Remote.Servers, tf is the model servers' generator.
	Generator string
	// Remote: the model servers to call instead of loading the TensorFlow models here.
	Remote RemoteConfig
	// GeneratorLimits bound the generator's queue (zero: models.DefaultGeneratorWaiting).
	GeneratorLimits models.GeneratorLimits
}

// Models are the models in use, every one held through the residency manager as its policy
// says (models.Policy): the encoder and the generator resident, the tagger and the filter on
// demand, the LSA resident while it serves the dense side. Each call on a model acquires it for
// that call.
type Models struct {
	Manager   *gpu.Manager
	Encoder   *models.ManagedEncoder   // nil when the trained encoder does not serve
	Tagger    *models.ManagedTagger    // nil when the statute tagger does not serve
	Generator *models.ManagedGenerator // nil when the generator does not serve
	Filter    *models.OnDemandFilter   // nil when the state has no filter
	// Remote are the model servers' models (serve --models, --generator openai://…), used in
	// place of the in-process ones; nil when none are configured.
	Remote *Remote
	// lsa is the state's LSA file, registered once the dense side turns out to use it (ManageLSA).
	lsa *StateModel
	dev gpu.Devices
}

// Close closes the manager and the models it holds.
func (t *Models) Close() error {
	if t == nil {
		return nil
	}
	t.Remote.Close()
	return t.Manager.Close()
}

// LoadModels registers the state's models with a residency manager as the policy places them
// (resident ones load now, within the budget; the tagger is loaded once to check it, then kept
// on demand) and hands out the encoder and the tagger when they are wanted and can be served.
// Without TensorFlow or without trained models, "auto" falls back quietly (with a log line);
// "encoder"/"on" fail instead.
func LoadModels(ctx context.Context, stateDir string, o ModelConfig, log *slog.Logger) (_ *Models, err error) {
	tfOK := TensorFlowAvailable()
	found, err := StateModels(stateDir, tfOK)
	if err != nil {
		return nil, err
	}
	_, _, external, err := OpenAIGenerator(o.Generator)
	if err != nil {
		return nil, err
	}
	genName := ""
	if !external {
		if genName, err = GeneratorModel(o.Generator); err != nil {
			return nil, err
		}
	}
	remote := len(o.Remote.Servers) > 0
	if remote && genName != "" && genName != models.GeneratorModelName {
		return nil, errRemoteName
	}
	if genName != "" && genName != models.GeneratorModelName {
		if found, err = withGenerator(found, models.SavedModelDir(stateDir, genName)); err != nil {
			return nil, err
		}
	}
	devs := gpu.Discover(ModelDevices)
	m := gpu.NewManager(gpu.Options{BudgetBytes: o.BudgetBytes, IdleTimeout: o.IdleTimeout, Devices: devs, Logger: log})
	t := &Models{Manager: m, dev: devs}
	defer func() {
		if err != nil {
			t.Close()
		}
	}()
	opts := models.TFOptions{IntraOpThreads: o.Threads}
	if devs.CUDA {
		opts.AllowGrowth = true // share the card with other processes instead of reserving it
	}
	// The tagger is loaded when asked for, or by default when the ranking gives it weight.
	want := map[string]bool{models.EncoderModelName: o.Embedder != "lsa",
		models.TaggerModelName:    o.Tagger == "on" || (o.Tagger == "auto" && advice.DefaultParams().Tagger > 0),
		models.GeneratorModelName: genName != ""}
	if t.Remote, err = connectRemote(ctx, o, genName != "", want[models.TaggerModelName], log); err != nil {
		return nil, err
	}
	if remote { // the model servers host the TensorFlow models; only the filter and the LSA are here
		want = map[string]bool{}
	}
	have := map[string]bool{}
	for _, sm := range found {
		spec := gpu.Spec{Name: sm.Name, Backend: sm.Backend, Device: devs.For(sm.Backend), Resident: sm.Resident, Bytes: sm.Bytes}
		switch {
		case sm.Name == models.FilterModelName:
			spec = models.FilterSpec(sm.Path, sm.Bytes, sm.Resident, AnalyzerFor)
			spec.Device = devs.For(sm.Backend)
		case sm.Name == models.LSAModelName:
			t.lsa = &sm // registered by ManageLSA when the dense side uses it
			continue
		case !tfOK || !want[sm.Name]:
			continue
		case sm.Name == models.EncoderModelName:
			spec.Load = withTokenizer(sm.Path, func(path string, tok *models.Tokenizer) (gpu.Model, error) {
				return models.LoadTFEncoder(path, tok, opts)
			})
		case sm.Name == models.TaggerModelName:
			spec.Load = withTokenizer(sm.Path, func(path string, tok *models.Tokenizer) (gpu.Model, error) {
				return models.LoadTFTagger(path, tok, opts)
			})
		case sm.Name == models.GeneratorModelName:
			path := sm.Path // the generator carries its own tokeniser (tokenizer.model)
			spec.Load = func(context.Context) (gpu.Model, error) {
				return models.LoadTFGeneratorWith(path, opts, o.GeneratorLimits)
			}
		default:
			continue
		}
		if err := m.Register(spec); err != nil {
			return nil, err
		}
		have[sm.Name] = true
	}
	if err := m.Start(ctx); err != nil {
		return nil, fmt.Errorf("load models: %w", err)
	}
	if have[models.EncoderModelName] {
		if t.Encoder, err = models.NewManagedEncoder(ctx, m, models.EncoderModelName); err != nil {
			return nil, fmt.Errorf("model %s: %w", models.EncoderModelName, err)
		}
	}
	if have[models.TaggerModelName] {
		// Loaded once now, so that a damaged model stops the start; then released when idle.
		if t.Tagger, err = models.NewManagedTagger(ctx, m, models.TaggerModelName); err != nil {
			return nil, fmt.Errorf("model %s: %w", models.TaggerModelName, err)
		}
	}
	if have[models.GeneratorModelName] {
		if t.Generator, err = models.NewManagedGenerator(ctx, m, models.GeneratorModelName); err != nil {
			return nil, fmt.Errorf("model %s: %w", models.GeneratorModelName, err)
		}
	}
	if have[models.FilterModelName] {
		t.Filter = &models.OnDemandFilter{Models: m, Name: models.FilterModelName}
	}
	why := func(name string) string {
		switch {
		case !tfOK:
			return models.ErrTensorFlowUnavailable.Error()
		default:
			return "no trained " + name + " in " + stateDir + " (lawbot train --only " + name + ")"
		}
	}
	if remote {
		why = func(name string) string { return "the model servers serve no " + name + " (or none was ready in time)" }
	}
	if t.Encoder == nil && o.Embedder == "encoder" && (t.Remote == nil || t.Remote.Encoder == nil) {
		return nil, fmt.Errorf("--embedder encoder: %s", why("encoder"))
	}
	if t.articleTagger() == nil && o.Tagger == "on" {
		return nil, fmt.Errorf("--tagger on: %s", why("tagger"))
	}
	if t.TextGenerator() == nil && genName != "" {
		return nil, fmt.Errorf("--generator %s: %s", o.Generator, why(genName))
	}
	if log != nil {
		if t.Encoder == nil && o.Embedder == "auto" {
			log.Info("the trained encoder is not in use; the LSA embedding serves", "reason", why("encoder"))
		}
		if t.Tagger == nil && o.Tagger == "auto" && want["tagger"] {
			log.Info("the statute tagger is not in use", "reason", why("tagger"))
		}
		if t.Generator != nil {
			log.Info("the generator serves", "model", t.Generator.Name(), "context", t.Generator.MaxContext())
		}
	}
	return t, nil
}

// ManageLSA puts the LSA embedding the dense side opened under the residency manager, placed
// as the policy says (resident: it embeds the query of every request), and returns the
// embedder to use in its place.
func (t *Models) ManageLSA(ctx context.Context, opened *models.LSA, stateDir string) (*models.ManagedLSA, error) {
	place, _ := models.PlacementOf(models.LSAModelName)
	sm := t.lsa
	if sm == nil { // not found by LoadModels: the file appeared since
		sm = &StateModel{Name: place.Name, Backend: place.Backend, Path: place.Path(stateDir), Bytes: opened.Bytes()}
	}
	spec := models.LSASpec(sm.Path, sm.Bytes, place.Resident, opened, search.DefaultAnalyzer())
	spec.Device = t.dev.For(spec.Backend)
	if err := t.Manager.Register(spec); err != nil {
		return nil, err
	}
	return models.NewManagedLSA(ctx, t.Manager, models.LSAModelName)
}

// UseModels puts the models into the pipeline: the LSA the dense side opened goes under the
// residency manager; the encoder's vectors replace the LSA's on the dense side (embedded vectors
// are built first when they are missing or stale), the tagger joins the statute ranking.
func UseModels(ctx context.Context, p *advice.Pipeline, t *Models, vectorStore string, stdout, stderr io.Writer) error {
	r := p.Retriever
	if r.Dense != nil {
		if lsa, ok := r.Dense.Embedder.(*models.LSA); ok {
			managed, err := t.ManageLSA(ctx, lsa, r.State.Dir)
			if err != nil {
				return fmt.Errorf("LSA embedding: %w", err)
			}
			r.Dense.Embedder = managed
		}
	}
	if tg := t.articleTagger(); tg != nil {
		if p.Params.Tagger == 0 {
			// Asked for by --tagger on while the default gives it no weight: the setting tuned
			// on the holding dev set (README, "TensorFlow models").
			p.Params.Tagger, p.Params.TaggerConfidence = TaggerOnWeight, TaggerOnConfidence
		}
		known := r.SetTagger(tg)
		if known == 0 {
			r.SetTagger(nil)
			return fmt.Errorf("statute tagger: none of its %d articles is in the state (labels.txt of another corpus?)", len(tg.Labels()))
		}
		fmt.Fprintf(stderr, "statute tagger: %d of its %d articles are in the state\n", known, len(tg.Labels()))
	}
	enc, version, err := t.denseEncoder()
	if err != nil || enc == nil || vectorStore == "none" {
		return err
	}
	if vectorStore == "" || vectorStore == "embedded" {
		if ok, why := index.EncoderVectorsCurrent(r.State, version); !ok {
			fmt.Fprintf(stdout, "encoding the corpus with the trained encoder: %s\n", why)
			if err := index.BuildEncoderVectors(ctx, r.State, enc, version, stderr); err != nil {
				return err
			}
		}
	}
	d, err := index.OpenEncoderDense(ctx, r.State, enc, version, vectorStore, stderr)
	if err != nil {
		return err
	}
	if r.Dense != nil {
		r.Dense.Close()
	}
	r.Dense = d
	fmt.Fprintf(stderr, "dense search: %s, %d dimensions\n", d.Backend, d.Embedder.Dim())
	return nil
}

// withTokenizer is the load of a SavedModel that comes with its tokeniser.
func withTokenizer(path string, load func(string, *models.Tokenizer) (gpu.Model, error)) func(context.Context) (gpu.Model, error) {
	return func(context.Context) (gpu.Model, error) {
		tok, err := LoadModelTokenizer(path)
		if err != nil {
			return nil, err
		}
		return load(path, tok)
	}
}

// LoadModelTokenizer loads a model's tokeniser and refuses one made with another analyzer:
// its token ids would not be the ones the model was trained on.
func LoadModelTokenizer(dir string) (*models.Tokenizer, error) {
	tok, err := models.LoadTokenizer(dir, search.DefaultAnalyzer())
	if err != nil {
		return nil, err
	}
	if got := tok.Analyzer(); got != search.AnalyzerVersion {
		return nil, fmt.Errorf("%s was trained with analyzer %q, this lawbot tokenises with %q: train it again (lawbot train --only encoder,tagger)",
			dir, got, search.AnalyzerVersion)
	}
	return tok, nil
}

// CheckModelConfig validates a model configuration (the flags behind it).
func CheckModelConfig(o ModelConfig) error {
	switch o.Embedder {
	case "auto", "encoder", "lsa":
	default:
		return fmt.Errorf("--embedder %q: want auto, encoder or lsa", o.Embedder)
	}
	switch o.Tagger {
	case "auto", "on", "off":
	default:
		return fmt.Errorf("--tagger %q: want auto, on or off", o.Tagger)
	}
	if _, _, external, err := OpenAIGenerator(o.Generator); err != nil {
		return err
	} else if !external {
		name, err := GeneratorModel(o.Generator)
		if err != nil {
			return err
		}
		if len(o.Remote.Servers) > 0 && name != "" && name != models.GeneratorModelName {
			return errRemoteName
		}
	}
	if len(o.Remote.Servers) > 0 { // the URLs and the CA file, checked before anything starts
		p, err := openai.NewPool(o.Remote.Servers, openai.PoolOptions{CAFile: o.Remote.CAFile})
		if err != nil {
			return fmt.Errorf("--models: %w", err)
		}
		p.Close()
	}
	if o.BudgetBytes < 0 || o.Threads < 0 {
		return errors.New("--model-budget and --tf-threads cannot be negative")
	}
	return nil
}

// GeneratorModel reads --generator: "" for the extractive composer, else the name of the model
// directory under STATE/models ("generator" for tf).
func GeneratorModel(choice string) (string, error) {
	switch {
	case choice == "" || choice == "extractive":
		return "", nil
	case choice == "tf":
		return models.GeneratorModelName, nil
	case strings.HasPrefix(choice, "tf:") && len(choice) > 3 && !strings.ContainsAny(choice[3:], `/\.`):
		return choice[3:], nil
	}
	return "", fmt.Errorf("--generator %q: want extractive, tf, tf:NAME or openai://HOST:PORT/MODEL", choice)
}

// withGenerator puts the model at dir in the generator's place (--generator tf:NAME).
func withGenerator(found []StateModel, dir string) ([]StateModel, error) {
	n, ok, err := ModelSize(dir, gpu.BackendTensorFlow)
	if err != nil || !ok {
		return nil, fmt.Errorf("--generator: no model at %s (%v)", dir, err)
	}
	place, _ := models.PlacementOf(models.GeneratorModelName)
	gen := StateModel{Name: models.GeneratorModelName, Backend: place.Backend, Resident: place.Resident, Path: dir, Bytes: n}
	out := []StateModel{gen}
	for _, m := range found {
		if m.Name != models.GeneratorModelName {
			out = append(out, m)
		}
	}
	return out, nil
}
