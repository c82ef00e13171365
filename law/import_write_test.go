package law

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestImportCorpusWritesBothFiles(t *testing.T) {
	out := t.TempDir()
	var bad int
	for run := 0; run < 2; run++ { // a second run replaces the files in place
		res, err := ImportCorpus(filepath.Join("testdata", "import"), out, ImportOptions{OnBad: func(*ImportError) { bad++ }})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Statutes) != 8 || res.PrecFiles != 1 || res.Precedents != nil {
			t.Errorf("run %d: %d statutes, %d precedent files, %d precedents kept in memory", run, len(res.Statutes), res.PrecFiles, len(res.Precedents))
		}
	}
	entries, _ := os.ReadDir(out)
	if len(entries) != 2 || bad != 4 {
		t.Errorf("out holds %v (want the two JSONL files alone); %d files reported bad over two runs", entries, bad)
	}
	n := 0
	if err := ReadJSONL(filepath.Join(out, "precedents.jsonl"), ReadOptions{}, func(*Precedent) error { n++; return nil }); err != nil || n != 1 {
		t.Errorf("precedents.jsonl: %d precedents, %v", n, err)
	}

	if _, err := ImportCorpus(t.TempDir(), out, ImportOptions{}); err == nil || !strings.HasPrefix(err.Error(), "import: no law or precedent files") {
		t.Errorf("empty checkout: err %v", err)
	}
	if n2 := 0; ReadJSONL(filepath.Join(out, StatutesFile), ReadOptions{}, func(*Statute) error { n2++; return nil }) != nil || n2 != 8 {
		t.Errorf("a failed import changed the previous statutes (%d)", n2)
	}
}
