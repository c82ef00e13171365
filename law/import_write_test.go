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

// A checkout of one repository replaces only its own kind's file: pulling legalize-kr alone
// keeps the precedents a drop directory holds, and precedent-kr alone keeps the statutes.
func TestImportCorpusLeavesTheOtherKind(t *testing.T) {
	for _, c := range []struct{ sub, kept string }{{"kr", "precedents.jsonl"}, {"precedent-kr", StatutesFile}} {
		out := t.TempDir()
		const marker = `{"keep": "this file"}` + "\n"
		if err := os.WriteFile(filepath.Join(out, c.kept), []byte(marker), 0o644); err != nil {
			t.Fatal(err)
		}
		from := t.TempDir()
		if err := os.CopyFS(filepath.Join(from, c.sub), os.DirFS(filepath.Join("testdata", "import", c.sub))); err != nil {
			t.Fatal(err)
		}
		if _, err := ImportCorpus(from, out, ImportOptions{OnBad: func(*ImportError) {}}); err != nil {
			t.Fatalf("%s alone: %v", c.sub, err)
		}
		if b, _ := os.ReadFile(filepath.Join(out, c.kept)); string(b) != marker {
			t.Errorf("importing %s alone rewrote %s: %.80q", c.sub, c.kept, b)
		}
	}
}
