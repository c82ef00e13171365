package main

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
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

// The TensorFlow models (encoder, tagger) are trained by training/train.py, in Python, on the
// export of the state (lawbot train export): Go tokenises, Python only sees ids.
const (
	// pythonEnv names the interpreter with TensorFlow; without it, tfVenvPython (make setup).
	pythonEnv    = "LAWBOT_PYTHON"
	tfVenvPython = "var/tf-venv/bin/python"
	// trainingEnv names the directory holding train.py; without it, ./training.
	trainingEnv = "LAWBOT_TRAINING"
	// trainArgsEnv passes extra flags to train.py, e.g. "--steps 20" for a smoke run.
	trainArgsEnv = "LAWBOT_TRAIN_ARGS"
	// trainExportDir is where, inside the state, the export for training is kept (reused while
	// the snapshot and the analyzer stay the same).
	trainExportDir = "train-export"
	// tfModelVersion is the version in the models' directory names.
	tfModelVersion = 1
)

// TFModelDir is where a TensorFlow model lives in a state directory: STATE/models/<name>.v1.
func TFModelDir(stateDir, name string) string {
	return filepath.Join(stateDir, "models", fmt.Sprintf("%s.v%d", name, tfModelVersion))
}

// errTFUnavailable says the TensorFlow models cannot be trained here: a full `lawbot train`
// reports them as skipped, a `--only encoder` fails with it.
var errTFUnavailable = errors.New("cannot train the TensorFlow models")

// trainTF returns the trainer of one TensorFlow model.
func trainTF(name string) func(opt trainOptions, stdout, stderr io.Writer) error {
	return func(opt trainOptions, stdout, stderr io.Writer) error {
		err := runTFTraining(name, opt, stdout, stderr)
		if errors.Is(err, errTFUnavailable) && !opt.Only {
			fmt.Fprintf(stdout, "%s: skipped: %v\n", name, err)
			return nil
		}
		return err
	}
}

func runTFTraining(name string, opt trainOptions, stdout, stderr io.Writer) error {
	python, err := findTFPython()
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
	exportDir := filepath.Join(opt.StateDir, trainExportDir)
	if err := ensureExport(st, exportDir, stderr); err != nil {
		return fmt.Errorf("export: %w", err)
	}
	modelsDir := filepath.Join(opt.StateDir, "models")
	if err := os.MkdirAll(modelsDir, 0o755); err != nil {
		return err
	}
	// Left by a run that was killed before it could clean up.
	if stale, _ := filepath.Glob(filepath.Join(modelsDir, "."+name+".tmp-*")); len(stale) > 0 {
		for _, d := range stale {
			os.RemoveAll(d)
		}
	}
	tmp, err := os.MkdirTemp(modelsDir, "."+name+".tmp-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	// Ctrl-C or SIGTERM stops the Python child and still removes the half-written model.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := []string{script, "--data", exportDir, "--out", tmp, "--models", name, "--seed", fmt.Sprint(opt.Seed)}
	args = append(args, strings.Fields(os.Getenv(trainArgsEnv))...)
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
	info, err := readModelInfo(built)
	if err != nil {
		return fmt.Errorf("train.py wrote no usable %s model: %w", name, err)
	}
	dest := TFModelDir(opt.StateDir, name)
	if err := replaceDir(built, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: trained %v steps in %s; %s\n  wrote %s\n", name, info["steps"],
		time.Since(start).Round(time.Second), formatMetrics(info), dest)
	if name == "encoder" {
		return encodeCorpus(st, dest, stdout, stderr)
	}
	return nil
}

// encodeCorpus fills the encoder's vector store right after training, so that the server starts
// with it ready; without TensorFlow in this binary the server does it on first use instead.
func encodeCorpus(st *state.State, dir string, stdout, stderr io.Writer) error {
	if !service.TensorFlowAvailable() {
		fmt.Fprintf(stdout, "encoder: this lawbot has no TensorFlow; the corpus is encoded when a TensorFlow build first serves\n")
		return nil
	}
	tok, err := service.LoadModelTokenizer(dir)
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
	if err := index.BuildEncoderVectors(context.Background(), st, enc, version, stderr); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "encoder: encoded %d documents into %s in %s\n", len(st.Precedents)+len(st.QA)+len(st.Statutes),
		filepath.Join(st.Dir, index.EncoderVectorDir), time.Since(start).Round(time.Second))
	return nil
}

// findTFPython finds the interpreter with TensorFlow: $LAWBOT_PYTHON, else var/tf-venv.
func findTFPython() (string, error) {
	python := os.Getenv(pythonEnv)
	where := "$" + pythonEnv
	if python == "" {
		python, where = tfVenvPython, tfVenvPython
	}
	path, err := exec.LookPath(python)
	if err != nil {
		return "", fmt.Errorf("%w: no Python with TensorFlow at %s (run make setup, or set $%s)", errTFUnavailable, where, pythonEnv)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
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
func findTrainScript() (string, error) {
	dir := os.Getenv(trainingEnv)
	if dir == "" {
		dir = "training"
	}
	path := filepath.Join(dir, "train.py")
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("%w: %s not found (run lawbot train from the repository root, or set $%s)", errTFUnavailable, path, trainingEnv)
	}
	return filepath.Abs(path)
}

// ensureExport writes the training export into dir unless it already holds one of this
// snapshot, analyzer and configuration.
func ensureExport(st *state.State, dir string, stderr io.Writer) error {
	if data, err := os.ReadFile(filepath.Join(dir, exportInfoFile)); err == nil {
		var info exportInfo
		if json.Unmarshal(data, &info) == nil && info.Source == st.Snapshot.Checksum &&
			info.Analyzer == search.AnalyzerVersion && info.Config == defaultExportConfig {
			fmt.Fprintf(stderr, "export: reusing %s (same snapshot)\n", dir)
			return nil
		}
	}
	info, err := exportTraining(st, search.DefaultAnalyzer(), dir, defaultExportConfig, stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "export: %d texts in %.1fs: vocabulary %d, %d labels, pairs %s, %d tagger examples\n",
		info.Texts, info.Seconds, info.Vocab, info.Labels, formatCounts(info.Pairs), info.Tagger)
	return nil
}

func readModelInfo(dir string) (map[string]any, error) {
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
