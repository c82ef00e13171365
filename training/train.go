package training

import (
	"context"
	"fmt"
	"io"
	"strings"
)

// Config is what every trainer is given.
type Config struct {
	// DataDir is the corpus directory (the filter reads it); StateDir the state directory the
	// models are written into (STATE/models).
	DataDir  string
	StateDir string
	// Seed seeds the held-out split and the example order.
	Seed uint64
	// Morphemes adds the analyzer's morphemes to the filter's features (off: character n-grams
	// only, no dictionary to load).
	Morphemes bool
	// Only is set when the models were picked by name: one that cannot train here (no
	// TensorFlow) is then an error instead of a skip.
	Only bool
	// Stdout receives each model's report; Stderr the progress of the long steps. Nil: discarded.
	Stdout, Stderr io.Writer
}

func (c Config) withDefaults() Config {
	if c.Stdout == nil {
		c.Stdout = io.Discard
	}
	if c.Stderr == nil {
		c.Stderr = io.Discard
	}
	return c
}

// Trainer builds one model into the state directory. A later model adds a line to trainers.
type Trainer struct {
	Name    string
	Summary string
	train   func(ctx context.Context, cfg Config) error
}

var trainers = []Trainer{
	{"filter", "the legal-question filter (logistic regression over character n-grams and morphemes)", TrainFilter},
	{"encoder", "the TensorFlow dual encoder (training/train.py on lawbot train export)", tfTrainer("encoder")},
	{"tagger", "the TensorFlow statute tagger (training/train.py on lawbot train export)", tfTrainer("tagger")},
	{"generator", "the TensorFlow generator: Gemma 3 270M converted from its PyPI GGUF (training/gemma_convert.py)", TrainGenerator},
}

// Register adds a trainer that lives outside this package (the statute ranker needs the whole
// request path, which depends on this package): lawbot train and the weekly update then
// select it by name like the others. It is called from init functions.
func Register(name, summary string, train func(ctx context.Context, cfg Config) error) {
	trainers = append(trainers, Trainer{Name: name, Summary: summary, train: train})
}

// Trainers lists every model this package trains, in the order they are trained.
func Trainers() []Trainer { return trainers }

// Names lists the trainers' names, comma-separated.
func Names() string {
	names := make([]string, len(trainers))
	for i, t := range trainers {
		names[i] = t.Name
	}
	return strings.Join(names, ", ")
}

// Select resolves a comma-separated list of model names (empty: all), keeping the trainers'
// order; an unknown name is an error.
func Select(only string) ([]Trainer, error) {
	if strings.TrimSpace(only) == "" {
		return trainers, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []Trainer
	for _, t := range trainers {
		if want[t.Name] {
			out = append(out, t)
			delete(want, t.Name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown model %q in --only (models: %s)", n, Names())
	}
	return out, nil
}

// Train runs the trainers one after another, stopping at the first that fails.
func Train(ctx context.Context, cfg Config, selected []Trainer) error {
	cfg = cfg.withDefaults()
	for _, t := range selected {
		if err := t.train(ctx, cfg); err != nil {
			return fmt.Errorf("%s: %w", t.Name, err)
		}
	}
	return nil
}
