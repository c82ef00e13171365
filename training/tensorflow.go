package training

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// The TensorFlow models (encoder, tagger) are trained by training/train.py, in Python, on the
// export of the state (lawbot train export): Go tokenises, Python only sees ids.
const (
	// PythonEnv names the interpreter with TensorFlow; without it, VenvPython (make setup).
	PythonEnv  = "LAWBOT_PYTHON"
	VenvPython = "var/tf-venv/bin/python"
	// ScriptDirEnv names the directory holding train.py; without it, ./training.
	ScriptDirEnv = "LAWBOT_TRAINING"
	// ArgsEnv passes extra flags to train.py, e.g. "--steps 20" for a smoke run.
	ArgsEnv = "LAWBOT_TRAIN_ARGS"
	// exportDir is where, inside the state, the export for training is kept (reused while the
	// snapshot and the analyzer stay the same).
	exportDir = "train-export"
)

// errTFUnavailable says the TensorFlow models cannot be trained here: a full `lawbot train`
// reports them as skipped, a `--only encoder` fails with it.
var errTFUnavailable = errors.New("cannot train the TensorFlow models")

// tfTrainer returns the trainer of one TensorFlow model.
func tfTrainer(name string) func(ctx context.Context, cfg Config) error {
	return func(ctx context.Context, cfg Config) error {
		cfg = cfg.withDefaults()
		err := trainTF(ctx, name, cfg)
		if errors.Is(err, errTFUnavailable) && !cfg.Only {
			fmt.Fprintf(cfg.Stdout, "%s: skipped: %v\n", name, err)
			return nil
		}
		return err
	}
}

// trainTF runs train.py for one model on the state's export (written first when missing or
// stale) and moves the model it wrote into the state.
func trainTF(ctx context.Context, name string, opt Config) error {
	stdout, stderr := opt.Stdout, opt.Stderr
	python, err := findTFPython(ctx)
	if err != nil {
		return err
	}
	script, err := findTrainScript()
	if err != nil {
		return err
	}
	st, err := state.Load(opt.StateDir)
	if errors.Is(err, state.ErrNoState) {
		return fmt.Errorf("%w: %v", errTFUnavailable, err)
	}
	if err != nil {
		return err
	}
	exportDir := filepath.Join(opt.StateDir, exportDir)
	if err := ensureExport(ctx, st, exportDir, stderr); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	tmp, err := scratchDir(opt.StateDir, name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Ctrl-C or SIGTERM stops the Python child and still removes the half-written model.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := []string{script, "--data", exportDir, "--out", tmp, "--models", name, "--seed", fmt.Sprint(opt.Seed)}
	args = append(args, strings.Fields(os.Getenv(ArgsEnv))...)
	fmt.Fprintf(stderr, "%s: %s %s\n", name, python, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout, cmd.Stderr = stderr, stderr // train.py's progress lines
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=2", "PYTHONUNBUFFERED=1")
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", python, script, err)
	}
	built := filepath.Join(tmp, name)
	info, err := ReadModelInfo(built)
	if err != nil {
		return fmt.Errorf("train.py wrote no usable %s model: %w", name, err)
	}
	dest := models.SavedModelDir(opt.StateDir, name)
	if err := replaceDir(built, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: trained %v steps in %s; %s\n  wrote %s\n", name, info["steps"],
		time.Since(start).Round(time.Second), formatMetrics(info), dest)
	if name == "encoder" {
		return encodeCorpus(ctx, st, dest, stdout, stderr)
	}
	return nil
}

// encodeCorpus fills the encoder's vector store right after training, so that the server starts
// with it ready; without TensorFlow in this binary the server does it on first use instead.
func encodeCorpus(ctx context.Context, st *state.State, dir string, stdout, stderr io.Writer) error {
	if models.TensorFlowVersion() == "" {
		fmt.Fprintf(stdout, "encoder: this lawbot has no TensorFlow; the corpus is encoded when a TensorFlow build first serves\n")
		return nil
	}
	// The tokeniser was written by this run's export, with this lawbot's analyzer.
	tok, err := models.LoadTokenizer(dir, search.DefaultAnalyzer())
	if err != nil {
		return err
	}
	enc, err := models.LoadTFEncoder(dir, tok, models.TFOptions{})
	if err != nil {
		return err
	}
	defer enc.Close()
	version, err := index.EncoderVersion(dir)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := index.BuildEncoderVectors(ctx, st, enc, version, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "encoder: encoded %d documents into %s in %s\n", len(st.Precedents)+len(st.QA)+len(st.Statutes),
		filepath.Join(st.Dir, index.EncoderVectorDir), time.Since(start).Round(time.Second))
	return nil
}

// findTFPython finds the interpreter with TensorFlow: $LAWBOT_PYTHON, else var/tf-venv.
func findTFPython(ctx context.Context) (string, error) {
	python := os.Getenv(PythonEnv)
	where := "$" + PythonEnv
	if python == "" {
		python, where = VenvPython, VenvPython
	}
	path, err := exec.LookPath(python)
	if err != nil {
		return "", fmt.Errorf("%w: no Python with TensorFlow at %s (run make setup, or set $%s)", errTFUnavailable, where, PythonEnv)
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	probe := exec.CommandContext(ctx, path, "-c", "import tensorflow as tf; print(tf.__version__)")
	probe.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=3")
	var out bytes.Buffer
	probe.Stdout, probe.Stderr = &out, &out
	if err := probe.Run(); err != nil {
		last := strings.TrimSpace(out.String())
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return "", fmt.Errorf("%w: %s cannot import tensorflow (%s; run make setup)", errTFUnavailable, path, last)
	}
	return path, nil
}

// findTrainScript finds training/train.py ($LAWBOT_TRAINING, else ./training).
func findTrainScript() (string, error) { return findScript("train.py") }

// findScript finds a script of training/ ($LAWBOT_TRAINING, else ./training).
func findScript(name string) (string, error) {
	dir := os.Getenv(ScriptDirEnv)
	if dir == "" {
		dir = "training"
	}
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %s not found (run lawbot train from the repository root, or set $%s)", errTFUnavailable, path, ScriptDirEnv)
	}
	return filepath.Abs(path)
}

// ensureExport writes the training export into dir unless it already holds one of this
// snapshot, analyzer and configuration.
func ensureExport(ctx context.Context, st *state.State, dir string, stderr io.Writer) error {
	if data, err := os.ReadFile(filepath.Join(dir, ExportInfoFile)); err == nil {
		var info ExportInfo
		if json.Unmarshal(data, &info) == nil && info.Source == st.Snapshot.Checksum &&
			info.Analyzer == search.AnalyzerVersion && info.Config == DefaultExportConfig {
			fmt.Fprintf(stderr, "export: reusing %s (same snapshot)\n", dir)
			return nil
		}
	}
	info, err := Export(ctx, st, search.DefaultAnalyzer(), dir, DefaultExportConfig, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "export: %d texts in %.1fs: vocabulary %d, %d labels, pairs %s, %d tagger examples\n",
		info.Texts, info.Seconds, info.Vocab, info.Labels, info.PairCounts(), info.Tagger)
	return nil
}

// ReadModelInfo reads a SavedModel's model.json (what train.py wrote about it: steps,
// validation figures), checking that the SavedModel itself is there.
func ReadModelInfo(dir string) (map[string]any, error) {
	data, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return nil, err
	}
	var info map[string]any
	if err := json.Unmarshal(data, &info); err != nil {
		return nil, fmt.Errorf("model.json: %w", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "saved_model.pb")); err != nil {
		return nil, err
	}
	return info, nil
}

// formatMetrics lists model.json's validation figures ("val_…").
func formatMetrics(info map[string]any) string {
	var parts []string
	for _, k := range sortedKeys(info) {
		if !strings.HasPrefix(k, "val_") {
			continue
		}
		if sub, ok := info[k].(map[string]any); ok {
			var subs []string
			for _, s := range sortedKeys(sub) {
				subs = append(subs, fmt.Sprintf("%s %v", s, sub[s]))
			}
			parts = append(parts, fmt.Sprintf("%s (%s)", k, strings.Join(subs, ", ")))
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %v", k, info[k]))
	}
	if len(parts) == 0 {
		return "no validation figures"
	}
	return strings.Join(parts, ", ")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// replaceDir moves the directory src to dest (same file system), replacing what was there: the
// old one is renamed aside first and removed once the new one is in place, so dest is the old
// model, the new one or (for an instant) absent, never half of one.
func replaceDir(src, dest string) error {
	old := ""
	if _, err := os.Stat(dest); err == nil {
		old = fmt.Sprintf("%s.old-%d", dest, time.Now().UnixNano())
		if err := os.Rename(dest, old); err != nil {
			return err
		}
	}
	if err := os.Rename(src, dest); err != nil {
		if old != "" {
			os.Rename(old, dest)
		}
		return err
	}
	if old != "" {
		return os.RemoveAll(old)
	}
	return nil
}

// scratchDir makes a fresh directory under STATE/models for a model being written, removing
// those left by runs killed before they could clean up; the model is moved into place from it.
func scratchDir(stateDir, name string) (string, error) {
	modelsDir := models.Dir(stateDir)
	if err := os.MkdirAll(modelsDir, 0o755); err != nil {
		return "", err
	}
	if stale, _ := filepath.Glob(filepath.Join(modelsDir, "."+name+".tmp-*")); len(stale) > 0 {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	return os.MkdirTemp(modelsDir, "."+name+".tmp-")
}
