package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/training"
)

// filterCorpus is the training package's hand-written corpus for the filter.
var filterCorpus = filepath.Join("..", "..", "training", "testdata", "filtercorpus")

// writeFilterCorpus copies the filter's hand-written fixture corpus (Q&A, statutes, precedents,
// everyday chat, and the two dev sets in eval/) into a directory of the test's own.
func writeFilterCorpus(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.CopyFS(dir, os.DirFS(filterCorpus)); err != nil {
		t.Fatal(err)
	}
	return dir
}

// trainFixture trains the filter on the fixture corpus into a new state directory.
func trainFixture(t *testing.T, data string, extra ...string) (stateDir, stdout string) {
	t.Helper()
	stateDir = t.TempDir()
	if testing.Short() {
		extra = append(extra, "--morphemes=false") // no 3 s dictionary load
	}
	code, out, errOut := runLawbot(append([]string{"train", "--data", data, "--state", stateDir}, extra...)...)
	if code != 0 {
		t.Fatalf("train exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errOut)
	}
	return stateDir, out
}

func TestTrainCommand(t *testing.T) {
	data := writeFilterCorpus(t)
	stateDir, out := trainFixture(t, data, "--only", "filter")
	path := models.FilterPath(stateDir)
	for _, want := range []string{"filter: trained on", "threshold", "held-out FRR", "qa.question", "nonlegal", "wrote " + path} {
		if !strings.Contains(out, want) {
			t.Errorf("train output lacks %q:\n%s", want, out)
		}
	}
	f, err := models.LoadFilter(path, service.AnalyzerFor)
	if err != nil {
		t.Fatal(err)
	}
	info := f.Info()
	if info.Training.Examples+info.Training.HeldOut < 40 {
		t.Errorf("trained on %d + %d texts; the fixture has more than 40", info.Training.Examples, info.Training.HeldOut)
	}
	if !testing.Short() && info.Features.Morphemes != service.MorphemeAnalyzerName {
		t.Errorf("default features should use %s morphemes: %+v", service.MorphemeAnalyzerName, info.Features)
	}
}

func TestTrainCommandErrors(t *testing.T) {
	data := writeFilterCorpus(t)
	for name, c := range map[string]struct {
		args []string
		code int
		want string
	}{
		"unknown model": {[]string{"--only", "nosuch"}, 2, `unknown model "nosuch"`},
		"extra arg":     {[]string{"filter"}, 2, "unexpected argument"},
		"no corpus":     {[]string{"--data", filepath.Join(data, "absent")}, 1, ""},
	} {
		args := append([]string{"train", "--data", data, "--state", t.TempDir()}, c.args...)
		code, _, errOut := runLawbot(args...)
		if code != c.code || !strings.Contains(errOut, c.want) {
			t.Errorf("%s: exit %d, stderr %q; want exit %d containing %q", name, code, errOut, c.code, c.want)
		}
	}
	// Without nonlegal.jsonl there are no negatives to learn from.
	if err := os.Remove(filepath.Join(data, training.NonLegalFile)); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runLawbot("train", "--data", data, "--state", t.TempDir(), "--morphemes=false")
	if code != 1 || !strings.Contains(errOut, training.NonLegalFile) {
		t.Errorf("missing nonlegal.jsonl: exit %d, %q", code, errOut)
	}
}
