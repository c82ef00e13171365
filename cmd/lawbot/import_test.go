package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/law"
)

func TestRunImportFixtures(t *testing.T) {
	t.Setenv(law.DataEnv, "") // only the fixtures' own laws in the catalog
	out := t.TempDir()
	from := filepath.Join("..", "..", "law", "testdata", "import")
	for run := 0; run < 2; run++ { // a second run replaces the files in place
		var stdout, stderr bytes.Buffer
		if err := runImport([]string{"--from-markdown", from, "--out", out}, &stdout, &stderr); err != nil {
			t.Fatalf("run %d: %v\n%s", run, err, stderr.String())
		}
		if got := strings.Count(stderr.String(), "\n"); got != 2 || !strings.Contains(stderr.String(), "깨진법") {
			t.Errorf("stderr should list the 2 unusable fixtures:\n%s", stderr.String())
		}
		if !strings.Contains(stdout.String(), "imported 8 articles of 2 laws and 1 precedents") {
			t.Errorf("stdout = %q", stdout.String())
		}
	}
	var statutes, precedents int
	if err := law.ReadJSONL(filepath.Join(out, law.StatutesFile), law.ReadOptions{}, func(s *law.Statute) error {
		statutes++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if err := law.ReadJSONL(filepath.Join(out, "precedents.jsonl"), law.ReadOptions{}, func(p *law.Precedent) error {
		precedents++
		if p.CitedCases == nil || p.CitedStatutes == nil {
			t.Errorf("%s: empty lists must be written as []", p.CaseNo)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if statutes != 8 || precedents != 1 {
		t.Errorf("read back %d statutes and %d precedents, want 8 and 1", statutes, precedents)
	}
	raw, _ := os.ReadFile(filepath.Join(out, law.StatutesFile))
	if !bytes.Contains(raw, []byte("<개정 2013.8.13>")) {
		t.Error("amendment tags should be written unescaped")
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 {
		t.Errorf("out holds %d entries, want just the two JSONL files (no temp files)", len(entries))
	}
}

func TestRunImportUsage(t *testing.T) {
	var stdout, stderr bytes.Buffer
	for _, args := range [][]string{nil, {"--out", t.TempDir()}, {"--from-markdown", "x"}} {
		if err := runImport(args, &stdout, &stderr); !errors.Is(err, errUsage) {
			t.Errorf("%q: err = %v, want usage", args, err)
		}
	}
	if err := runImport([]string{"--from-markdown", t.TempDir(), "--out", t.TempDir()}, &stdout, &stderr); err == nil {
		t.Error("an empty checkout should be an error")
	}
	if err := runImport([]string{"--from-markdown", t.TempDir(), "--out", t.TempDir(), "--data", filepath.Join(t.TempDir(), "none")}, &stdout, &stderr); !errors.Is(err, law.ErrNoCorpus) {
		t.Errorf("missing --data corpus: err = %v", err)
	}
}

// TestIngestFromMarkdown builds a state straight from the upstream markdown sample and checks
// that a second run over the same checkout changes nothing.
func TestIngestFromMarkdown(t *testing.T) {
	raw := filepath.Join(citeCorpusDir(t), "raw")
	stateDir := t.TempDir()
	code, out, errOut := runLawbot("ingest", "--from-markdown", raw, "--state", stateDir)
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"imported 100 articles of 3 laws and 50 precedents", "statutes      100  (100 added", "precedents     50  (50 added"} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	code, out, _ = runLawbot("ingest", "--from-markdown", raw, "--state", stateDir)
	if code != 0 || !strings.Contains(out, "corpus unchanged") {
		t.Errorf("second run: exit %d\n%s", code, out)
	}
	code, out, _ = runLawbot("precedent", "2017다206984", "--state", stateDir)
	if code != 0 || !strings.Contains(out, "민법 제31조") {
		t.Errorf("precedent from the imported state: exit %d\n%s", code, out)
	}
}
