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
