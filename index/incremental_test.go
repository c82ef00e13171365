package index

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
)

// nextWeek is the fixture corpus a week later: one new decision at the start of the corpus
// (every decision after it moves one place along), one Q&A answer amended.
func nextWeek(t *testing.T) string {
	t.Helper()
	data := testcorpus.CopyCorpus(t)
	prec := filepath.Join(data, "precedents.jsonl")
	old, err := os.ReadFile(prec)
	if err != nil {
		t.Fatal(err)
	}
	decision := `{"case_no": "2026도9999", "court": "대법원", "date": "2026-11-26", "title": "사기", "summary": "전세사기 조직이 임차인들로부터 받은 보증금을 돌려주지 않은 사건", "holding": "[1] 깡통전세 계약으로 임차인의 보증금을 편취한 경우 사기죄의 성립 여부(적극)", "cited_statutes": ["형법 제347조"], "case_type": "형사"}`
	if err := os.WriteFile(prec, append([]byte(decision+"\n"), old...), 0o644); err != nil {
		t.Fatal(err)
	}
	qa := filepath.Join(data, "qa.jsonl")
	raw, err := os.ReadFile(qa)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	lines[1] = strings.Replace(lines[1], `"answer": "`, `"answer": "(2026년 개정 반영) `, 1)
	if err := os.WriteFile(qa, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return data
}

// allPostings lists every posting of the three indexes, as postingsOf does in search.
func allPostings(t *testing.T, ix *Lexical) []string {
	t.Helper()
	var out []string
	for name, x := range map[string]*search.Index{"s": ix.Statutes, "p": ix.Precedents, "q": ix.QA} {
		for _, f := range x.Fields() {
			if err := x.EachPosting(f, func(term string, doc int32, tf int) {
				out = append(out, fmt.Sprintf("%s/%s/%s/%d=%d", name, f, term, doc, tf))
			}); err != nil {
				t.Fatal(err)
			}
		}
	}
	slices.Sort(out)
	return out
}

func TestIncrementalBuildMatchesAFullOne(t *testing.T) {
	ctx := context.Background()
	pst, pix, _ := withVectors(t)
	data := nextWeek(t)
	st := testcorpus.Ingest(t, data, t.TempDir())
	if len(st.Precedents) != len(pst.Precedents)+1 || len(st.QA) != len(pst.QA) {
		t.Fatalf("next week: %d precedents, %d Q&A", len(st.Precedents), len(st.QA))
	}
	parent := &Parent{State: pst, Lexical: pix, MaxDrift: 0.5}
	ix, reuse, err := BuildLexicalFrom(ctx, st, parent, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Analysed: the new decision and the amended answer; copied: everything else.
	total := len(st.Statutes) + len(st.Precedents) + len(st.QA)
	if reuse.Analysed != 2 || reuse.Copied != total-2 {
		t.Errorf("reuse %+v, want 2 analysed and %d copied", reuse, total-2)
	}
	full := testcorpus.Ingest(t, data, t.TempDir())
	fix, err := BuildLexical(ctx, full, nil)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := allPostings(t, fix), allPostings(t, ix); !slices.Equal(a, b) {
		t.Fatalf("the incremental index differs from a full build (%d vs %d postings)", len(a), len(b))
	}
	// What it wrote loads as the state's index.
	if _, err := LoadLexical(st); err != nil {
		t.Fatalf("LoadLexical after the incremental build: %v", err)
	}

	vr, err := BuildVectorsFrom(ctx, st, ix, parent, nil)
	if err != nil {
		t.Fatal(err)
	}
	docs := len(st.Precedents) + len(st.QA)
	// Embedded: the new decision and the amended answer; the decisions after the new one kept
	// their vectors under their new places.
	if vr.Refit != "" || vr.Embedded != 2 || vr.Moved < len(pst.Precedents)-1 || vr.Removed != 1 ||
		vr.Kept != docs-2 || vr.Drift != 3 {
		t.Errorf("vector reuse %+v (of %d documents)", vr, docs)
	}
	if ok, why := VectorsCurrent(st); !ok {
		t.Fatalf("vectors not current after the update: %s", why)
	}
	if ok, _ := VectorsCurrent(pst); !ok {
		t.Error("the update spoiled the parent's vectors")
	}
	d, err := OpenDense(ctx, st, ix, "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, _ := d.Store.Count(ctx); n != docs {
		t.Errorf("store holds %d, want %d", n, docs)
	}
	// Every document is found by its own embedding: the new decision included, none stale.
	emb, err := corpusDocs(ix)
	if err != nil {
		t.Fatal(err)
	}
	lsa, ok := d.Embedder.(*models.LSA)
	if !ok {
		t.Fatalf("embedder %T", d.Embedder)
	}
	for i := range docs {
		want := documentRecord(st, i, nil).ID
		m, err := d.Store.Search(ctx, lsa.EmbedCounts(emb[i]), 1, search.Filter{})
		if err != nil || len(m) != 1 || m[0].ID != want {
			t.Errorf("document %s: its own vector finds %v (%v)", want, m, err)
		}
	}

	// A parent past the drift bound is refitted: everything embedded again.
	again := testcorpus.Ingest(t, data, t.TempDir())
	aix, err := BuildLexical(ctx, again, nil)
	if err != nil {
		t.Fatal(err)
	}
	vr, err = BuildVectorsFrom(ctx, again, aix, &Parent{State: pst, Lexical: pix, MaxDrift: 0.01}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if vr.Refit == "" || vr.Embedded != docs {
		t.Errorf("past the drift bound: %+v, want a refit", vr)
	}
	if ok, why := VectorsCurrent(again); !ok {
		t.Errorf("refitted vectors not current: %s", why)
	}
}
