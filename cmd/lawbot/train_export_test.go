package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/training"
)

func TestExportCommand(t *testing.T) {
	exportState := ingestFixture(t)
	out := filepath.Join(t.TempDir(), "export")
	code, stdout, stderr := runLawbot("train", "export", "--state", exportState, "--out", out, "--min-cites", "2")
	if code != 0 || !strings.Contains(stdout, "exported") {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, f := range []string{models.VocabFile, models.TokenizerFile, training.LabelsFile, training.PairsFile, training.TaggerFile, training.ExportInfoFile} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Error(err)
		}
	}
	if !strings.Contains(stderr, "export: analyse") {
		t.Errorf("no progress on stderr: %q", stderr)
	}

	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"no out":   {[]string{"--state", exportState}, 2, "--out is required"},
		"extra":    {[]string{"--state", exportState, "--out", out, "x"}, 2, "unexpected argument"},
		"bad cfg":  {[]string{"--state", exportState, "--out", out, "--max-len", "0"}, 2, "must be > 0"},
		"no state": {[]string{"--state", t.TempDir(), "--out", out}, 1, "lawbot ingest"},
	} {
		code, _, stderr := runLawbot(append([]string{"train", "export"}, c.args...)...)
		if code != c.code || !strings.Contains(stderr, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", name, code, stderr, c.code, c.want)
		}
	}
}

// Without a Python that has TensorFlow, a full `lawbot train` trains the filter and reports the
// TensorFlow models as skipped; asking for one of them with --only fails, saying what to do.
func TestTrainSkipsTFWithoutPython(t *testing.T) {
	t.Setenv(training.PythonEnv, filepath.Join(t.TempDir(), "no-python"))
	data := writeFilterCorpus(t)
	stateDir := t.TempDir()
	code, stdout, stderr := runLawbot("train", "--data", data, "--state", stateDir, "--morphemes=false")
	if code != 0 {
		t.Fatalf("exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	for _, want := range []string{"filter: trained", "encoder: skipped", "tagger: skipped", "generator: skipped", "make setup"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, stdout)
		}
	}
	code, _, stderr = runLawbot("train", "--data", data, "--state", stateDir, "--only", "encoder")
	if code != 1 || !strings.Contains(stderr, "make setup") || !strings.Contains(stderr, "encoder") {
		t.Errorf("--only encoder without TensorFlow: exit %d, stderr %q", code, stderr)
	}
}

// trainTinyTFModels trains both TensorFlow models for three steps with the real training script
// on the fixture corpus, when a Python with TensorFlow is at hand ($LAWBOT_PYTHON, or the
// repository's var/tf-venv; otherwise the test skips), and returns the state and lawbot's stdout.
func trainTinyTFModels(t *testing.T) (stateDir, stdout string) {
	t.Helper()
	if testing.Short() {
		t.Skip("trains with TensorFlow")
	}
	python := os.Getenv(training.PythonEnv)
	if python == "" {
		python, _ = filepath.Abs(filepath.Join("..", "..", training.VenvPython))
	}
	if _, err := os.Stat(python); err != nil {
		t.Skipf("no Python with TensorFlow (%s): run make setup or set $%s", python, training.PythonEnv)
	}
	scripts, _ := filepath.Abs(filepath.Join("..", "..", "training"))
	t.Setenv(training.PythonEnv, python)
	t.Setenv(training.ScriptDirEnv, scripts)
	t.Setenv(training.ArgsEnv, "--steps 3 --dim 16 --hidden 16")
	stateDir = ingestFixture(t)
	code, stdout, stderr := runLawbot("train", "--data", fixtureCorpus, "--state", stateDir, "--only", "encoder,tagger")
	if code != 0 {
		t.Fatalf("train: exit %d\nstdout %s\nstderr %s", code, stdout, stderr)
	}
	return stateDir, stdout
}

// TestTrainTFModelsTiny runs the real training script for a few steps on the fixture corpus when
// a Python with TensorFlow is at hand ($LAWBOT_PYTHON, or the repository's var/tf-venv).
func TestTrainTFModelsTiny(t *testing.T) {
	stateDir, stdout := trainTinyTFModels(t)
	for _, name := range []string{"encoder", "tagger"} {
		dir := models.SavedModelDir(stateDir, name)
		info, err := training.ReadModelInfo(dir)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if info["name"] != name || info["dim"] != 16.0 || info["max_len"] != float64(models.DefaultMaxLen) {
			t.Errorf("%s model.json: %v", name, info)
		}
		for _, f := range []string{"golden.json", models.VocabFile, models.TokenizerFile} {
			if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
				t.Error(err)
			}
		}
		if _, err := models.LoadTokenizer(dir, search.DefaultAnalyzer()); err != nil {
			t.Errorf("%s: %v", name, err)
		}
		if !strings.Contains(stdout, name+": trained") {
			t.Errorf("stdout lacks %q: %s", name+": trained", stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(models.SavedModelDir(stateDir, "tagger"), training.LabelsFile)); err != nil {
		t.Error(err)
	}
	entries, _ := os.ReadDir(filepath.Join(stateDir, "models"))
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("left behind %s", e.Name())
		}
	}
}
