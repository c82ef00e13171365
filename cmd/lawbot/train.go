package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/state"
)

// trainOptions are the flags every trainer shares.
type trainOptions struct {
	DataDir  string
	StateDir string
	Seed     uint64
	// Morphemes adds the analyzer's morphemes to the filter's features (off: character n-grams
	// only, no dictionary to load).
	Morphemes bool
	// Only is set when --only picked the models: one that cannot train here (no TensorFlow) is
	// then an error instead of a skip.
	Only bool
}

// trainer builds one model into the state directory. Later models (the statute tagger, …) add a
// line to trainers and are picked with --only.
type trainer struct {
	name    string
	summary string
	run     func(opt trainOptions, stdout, stderr io.Writer) error
}

var trainers = []trainer{
	{"filter", "the legal-question filter (logistic regression over character n-grams and morphemes)", trainFilter},
	{"encoder", "the TensorFlow dual encoder (training/train.py on lawbot train export)", trainTF("encoder")},
	{"tagger", "the TensorFlow statute tagger (training/train.py on lawbot train export)", trainTF("tagger")},
}

func runTrain(args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "export" {
		return runTrainExport(args[1:], stdout, stderr)
	}
	fs := newFlags("train", stderr)
	dataFlag := fs.String("data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	stateDir := fs.String("state", state.DefaultDir, "state directory to write the models into (STATE/models)")
	only := fs.String("only", "", "comma-separated models to train (default all: "+trainerNames()+")")
	seed := fs.Uint64("seed", 1, "seed for the held-out split and the example order")
	morphemes := fs.Bool("morphemes", true, "use kagome morphemes as filter features (false: character n-grams only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot train: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	selected, err := selectTrainers(*only)
	if err != nil {
		fmt.Fprintf(stderr, "lawbot train: %v\n", err)
		return errUsage
	}
	dataDir, err := law.ResolveDataDir(*dataFlag)
	if err != nil {
		return err
	}
	opt := trainOptions{DataDir: dataDir, StateDir: *stateDir, Seed: *seed, Morphemes: *morphemes, Only: strings.TrimSpace(*only) != ""}
	for _, t := range selected {
		if err := t.run(opt, stdout, stderr); err != nil {
			return fmt.Errorf("%s: %w", t.name, err)
		}
	}
	return nil
}

// selectTrainers resolves --only, keeping the order of trainers.
func selectTrainers(only string) ([]trainer, error) {
	if strings.TrimSpace(only) == "" {
		return trainers, nil
	}
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	var out []trainer
	for _, t := range trainers {
		if want[t.name] {
			out = append(out, t)
			delete(want, t.name)
		}
	}
	for n := range want {
		return nil, fmt.Errorf("unknown model %q in --only (models: %s)", n, trainerNames())
	}
	return out, nil
}

func trainerNames() string {
	names := make([]string, len(trainers))
	for i, t := range trainers {
		names[i] = t.name
	}
	return strings.Join(names, ", ")
}
