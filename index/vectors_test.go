package index

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/search"
)

func TestParseRecordID(t *testing.T) {
	cases := []struct {
		id, kind string
		n        int32
		ok       bool
	}{
		{"precedent/12", KindPrecedent, 12, true},
		{"qa/0", KindQA, 0, true},
		{"qa/0", KindPrecedent, 0, false},
		{"precedent/-1", KindPrecedent, 0, false},
		{"precedent/x", KindPrecedent, 0, false},
		{"precedent/99999999999", KindPrecedent, 0, false},
		{"", KindQA, 0, false},
	}
	for _, c := range cases {
		n, ok := ParseRecordID(c.id, c.kind)
		if ok != c.ok || (ok && n != c.n) {
			t.Errorf("ParseRecordID(%q, %q) = %d, %v; want %d, %v", c.id, c.kind, n, ok, c.n, c.ok)
		}
	}
	if id := RecordID(KindStatute, 7); id != "statute/7" {
		t.Errorf("RecordID = %q", id)
	}
}

func TestVectorsHoldTheCorpus(t *testing.T) {
	st, ix, _ := withVectors(t)
	ctx := context.Background()
	d, err := OpenDense(ctx, st, ix, "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, err := d.Store.Count(ctx); err != nil || n != len(st.Precedents)+len(st.QA) {
		t.Fatalf("store holds %d (%v), want every precedent and Q&A pair", n, err)
	}
	if d.Backend != "embedded" || d.Statutes || d.Embedder.Dim() <= 0 {
		t.Errorf("dense side %+v", d)
	}
	// Precedent records carry the fields a filter reads.
	m, err := d.Store.Search(ctx, d.Embedder.Embed("임대차 보증금 반환"), 100, search.Filter{Kind: KindPrecedent, CaseType: "형사"})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range m {
		n, ok := ParseRecordID(x.ID, KindPrecedent)
		if !ok || st.Precedents[n].CaseType != "형사" {
			t.Errorf("filtered search returned %s", x.ID)
		}
	}
}

func TestVectorsGoStaleWithTheCorpus(t *testing.T) {
	st, ix, stateDir := withVectors(t)
	// A build that died before writing its source file is not current.
	if err := os.Remove(filepath.Join(stateDir, VectorDir, vectorSourceFile)); err != nil {
		t.Fatal(err)
	}
	if ok, _ := VectorsCurrent(st); ok {
		t.Error("vectors without a source file count as current")
	}
	if err := os.WriteFile(filepath.Join(stateDir, VectorDir, vectorSourceFile), []byte(`{"source":"other","records":16}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if ok, why := VectorsCurrent(st); ok || !strings.Contains(why, "another corpus") {
		t.Errorf("vectors of another corpus: %v %q", ok, why)
	}
	if _, err := OpenDense(context.Background(), st, ix, "milvus-ish://x", nil); err == nil || !strings.Contains(err.Error(), "want embedded or milvus") {
		t.Errorf("an unknown store spec: %v", err)
	}
}

// The source strings name what the stores were built from; states built before this package
// existed must still open, so they are pinned here.
func TestSourcesAreStable(t *testing.T) {
	st, _, _ := withVectors(t)
	want := st.Snapshot.Checksum + " " + search.AnalyzerVersion
	if got := indexSource(st); got != want {
		t.Errorf("indexSource = %q, want %q", got, want)
	}
	if got := vectorSource(st); got != want+" lsa.v1" {
		t.Errorf("vectorSource = %q, want %q", got, want+" lsa.v1")
	}
	if got := encoderSource(st, "encoder.v1 aaaa"); got != want+" encoder.v1 aaaa +statutes" {
		t.Errorf("encoderSource = %q", got)
	}
	if got := milvusCollection("x"); got != "lawbot_2d711642b726" {
		t.Errorf("milvusCollection(x) = %q", got)
	}
}
