package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
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
}

// Models are the models in use, held through the residency manager: the TensorFlow
// encoder and tagger (acquired once, resident), and the legal-question filter (on demand).
type Models struct {
	Manager *gpu.Manager
	Encoder *models.TFEncoder
	Tagger  *models.TFTagger
	Filter  *models.OnDemandFilter // nil when the state has no filter
	release []func()
}

// Close releases the models and the manager.
func (t *Models) Close() error {
	if t == nil {
		return nil
	}
	for _, r := range t.release {
		r()
	}
	return t.Manager.Close()
}

// fileModel stands for a Go-native model the server loads itself (the LSA embedding, loaded
// with the dense store): the manager accounts for its size.
type fileModel struct{ bytes int64 }

func (f fileModel) Bytes() int64 { return f.bytes }
func (fileModel) Close() error   { return nil }

// LoadModels registers the state's models with a residency manager (resident ones load
// now, within the budget) and hands out the encoder and the tagger when they are wanted and
// can be served. Without TensorFlow or without trained models, "auto" falls back quietly (with a
// log line); "encoder"/"on" fail instead.
func LoadModels(ctx context.Context, stateDir string, o ModelConfig, log *slog.Logger) (*Models, error) {
	tfOK := TensorFlowAvailable()
	found, err := StateModels(stateDir, tfOK)
	if err != nil {
		return nil, err
	}
	devs := gpu.Discover(ModelDevices)
	m := gpu.NewManager(gpu.Options{BudgetBytes: o.BudgetBytes, IdleTimeout: o.IdleTimeout, Devices: devs, Logger: log})
	t := &Models{Manager: m}
	opts := models.TFOptions{IntraOpThreads: o.Threads}
	if devs.CUDA {
		opts.AllowGrowth = true // share the card with other processes instead of reserving it
	}
	// The tagger is loaded when asked for, or by default when the ranking gives it weight.
	want := map[string]bool{"encoder": o.Embedder != "lsa",
		"tagger": o.Tagger == "on" || (o.Tagger == "auto" && advice.DefaultParams().Tagger > 0)}
	have := map[string]bool{}
	for _, sm := range found {
		spec := gpu.Spec{Name: sm.Name, Backend: sm.Backend, Device: devs.For(sm.Backend), Resident: sm.Resident, Bytes: sm.Bytes}
		switch {
		case sm.Name == models.FilterModelName:
			// The real filter, loaded by the manager on the first question (models.OnDemandFilter).
			spec = models.FilterSpec(sm.Path, sm.Bytes, sm.Resident, AnalyzerFor)
			spec.Device = devs.For(sm.Backend)
		case sm.Backend != gpu.BackendTensorFlow:
			bytes := sm.Bytes
			spec.Load = func(context.Context) (gpu.Model, error) { return fileModel{bytes}, nil }
		case !tfOK || !want[sm.Name]:
			continue
		case sm.Name == "encoder":
			spec.Load = withTokenizer(sm.Path, func(path string, tok *models.Tokenizer) (gpu.Model, error) {
				return models.LoadTFEncoder(path, tok, opts)
			})
		case sm.Name == "tagger":
			spec.Load = withTokenizer(sm.Path, func(path string, tok *models.Tokenizer) (gpu.Model, error) {
				return models.LoadTFTagger(path, tok, opts)
			})
		default:
			continue
		}
		if err := m.Register(spec); err != nil {
			return nil, err
		}
		have[sm.Name] = sm.Backend == gpu.BackendTensorFlow
		if sm.Name == models.FilterModelName {
			t.Filter = &models.OnDemandFilter{Models: m, Name: models.FilterModelName}
		}
	}
	if err := m.Start(ctx); err != nil {
		m.Close()
		return nil, fmt.Errorf("load models: %w", err)
	}
	for _, name := range []string{"encoder", "tagger"} {
		if !have[name] {
			continue
		}
		model, release, err := m.Acquire(ctx, name)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("model %s: %w", name, err)
		}
		t.release = append(t.release, release)
		switch x := model.(type) {
		case *models.TFEncoder:
			t.Encoder = x
		case *models.TFTagger:
			t.Tagger = x
		}
	}
	why := func(name string) string {
		switch {
		case !tfOK:
			return models.ErrTensorFlowUnavailable.Error()
		default:
			return "no trained " + name + " in " + stateDir + " (lawbot train --only " + name + ")"
		}
	}
	if t.Encoder == nil && o.Embedder == "encoder" {
		t.Close()
		return nil, fmt.Errorf("--embedder encoder: %s", why("encoder"))
	}
	if t.Tagger == nil && o.Tagger == "on" {
		t.Close()
		return nil, fmt.Errorf("--tagger on: %s", why("tagger"))
	}
	if log != nil {
		if t.Encoder == nil && o.Embedder == "auto" {
			log.Info("the trained encoder is not in use; the LSA embedding serves", "reason", why("encoder"))
		}
		if t.Tagger == nil && o.Tagger == "auto" && want["tagger"] {
			log.Info("the statute tagger is not in use", "reason", why("tagger"))
		}
	}
	return t, nil
}

// UseModels puts the trained models into the pipeline: the encoder's vectors replace
// the LSA's on the dense side (embedded vectors are built first when they are missing or
// stale), the tagger joins the statute ranking.
func UseModels(ctx context.Context, p *advice.Pipeline, t *Models, vectorStore string, stdout, stderr io.Writer) error {
	r := p.Retriever
	if t.Tagger != nil {
		if p.Params.Tagger == 0 {
			// Asked for by --tagger on while the default gives it no weight: the setting tuned
			// on the holding dev set (README, "TensorFlow models").
			p.Params.Tagger, p.Params.TaggerConfidence = TaggerOnWeight, TaggerOnConfidence
		}
		known := r.SetTagger(t.Tagger)
		if known == 0 {
			r.SetTagger(nil)
			return fmt.Errorf("statute tagger: none of its %d articles is in the state (labels.txt of another corpus?)", len(t.Tagger.Labels()))
		}
		fmt.Fprintf(stderr, "statute tagger: %d of its %d articles are in the state\n", known, len(t.Tagger.Labels()))
	}
	if t.Encoder == nil || vectorStore == "none" {
		return nil
	}
	version, err := index.EncoderVersion(t.Encoder.Dir())
	if err != nil {
		return err
	}
	if vectorStore == "" || vectorStore == "embedded" {
		if ok, why := index.EncoderVectorsCurrent(r.State, version); !ok {
			fmt.Fprintf(stdout, "encoding the corpus with the trained encoder: %s\n", why)
			if err := index.BuildEncoderVectors(ctx, r.State, t.Encoder, version, stderr); err != nil {
				return err
			}
		}
	}
	d, err := index.OpenEncoderDense(ctx, r.State, t.Encoder, version, vectorStore, stderr)
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
	if o.BudgetBytes < 0 || o.Threads < 0 {
		return errors.New("--model-budget and --tf-threads cannot be negative")
	}
	return nil
}
