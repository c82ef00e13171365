package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/search"
)

const leaseQuestion = "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요"

func TestBuildAndLoadLexical(t *testing.T) {
	data, stateDir := testcorpus.CopyCorpus(t), t.TempDir()
	st := testcorpus.Ingest(t, data, stateDir)

	if _, err := LoadLexical(st); !errors.Is(err, ErrNoIndex) {
		t.Fatalf("LoadLexical before BuildLexical: %v, want ErrNoIndex", err)
	}
	var progress strings.Builder
	built, err := BuildLexical(context.Background(), st, &progress)
	if err != nil {
		t.Fatalf("BuildLexical: %v", err)
	}
	if !strings.Contains(progress.String(), "index") {
		t.Errorf("no progress drawn: %q", progress.String())
	}
	loaded, err := LoadLexical(st)
	if err != nil {
		t.Fatalf("LoadLexical: %v", err)
	}
	statutes, precedents, qa := Fields()
	q := search.Terms(QueryTerms(search.DefaultAnalyzer(), leaseQuestion))
	for _, c := range []struct {
		name          string
		built, loaded *search.Index
		n             int
		fields        []string
	}{
		{"statutes", built.Statutes, loaded.Statutes, len(st.Statutes), statutes},
		{"precedents", built.Precedents, loaded.Precedents, len(st.Precedents), precedents},
		{"qa", built.QA, loaded.QA, len(st.QA), qa},
	} {
		if c.built.Len() != c.n || c.loaded.Len() != c.n || c.n == 0 {
			t.Errorf("%s: built %d, loaded %d documents, state %d", c.name, c.built.Len(), c.loaded.Len(), c.n)
		}
		if !slices.Equal(c.fields, c.loaded.Fields()) {
			t.Errorf("%s: fields %v, Fields says %v", c.name, c.loaded.Fields(), c.fields)
		}
		weights := make([]search.FieldWeight, len(c.fields))
		for i := range weights {
			weights[i] = search.FieldWeight{Weight: 1, B: 0.75}
		}
		sp := search.Params{K1: 1.2, Fields: weights}
		a, b := c.built.Search(q, sp, 0), c.loaded.Search(q, sp, 0)
		if len(a) == 0 || !slices.Equal(a, b) {
			t.Errorf("%s: built index ranks %v, loaded %v", c.name, a, b)
		}
	}

	// A changed corpus gives a new snapshot; the old indexes are then stale.
	statutesFile := filepath.Join(data, "statutes.jsonl")
	old, err := os.ReadFile(statutesFile)
	if err != nil {
		t.Fatal(err)
	}
	changed := strings.Replace(string(old), "임대차는 당사자 일방이", "임대차는 당사자 한쪽이", 1)
	if changed == string(old) {
		t.Fatal("the fixture no longer holds 민법 제618조's text")
	}
	if err := os.WriteFile(statutesFile, []byte(changed), 0o644); err != nil {
		t.Fatal(err)
	}
	st2 := testcorpus.Ingest(t, data, stateDir)
	if st2.Snapshot.Checksum == st.Snapshot.Checksum {
		t.Fatal("a changed corpus kept the snapshot checksum")
	}
	if _, err := LoadLexical(st2); !errors.Is(err, search.ErrStale) {
		t.Errorf("LoadLexical after the corpus changed: %v, want search.ErrStale", err)
	}
	if _, err := BuildLexical(context.Background(), st2, nil); err != nil {
		t.Fatalf("rebuild: %v", err)
	}
	if _, err := LoadLexical(st2); err != nil {
		t.Errorf("LoadLexical after the rebuild: %v", err)
	}
}

// A build whose ctx has ended stops without writing an index.
func TestBuildLexicalStopsWithItsContext(t *testing.T) {
	st := testcorpus.Ingest(t, testcorpus.CopyCorpus(t), t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := BuildLexical(ctx, st, nil); !errors.Is(err, context.Canceled) {
		t.Fatalf("BuildLexical with an ended ctx: %v, want context.Canceled", err)
	}
	if _, err := LoadLexical(st); !errors.Is(err, ErrNoIndex) {
		t.Errorf("LoadLexical after a cancelled build: %v, want ErrNoIndex", err)
	}
}

func TestQueryTermsMarkBigrams(t *testing.T) {
	a := search.DefaultAnalyzer()
	terms := QueryTerms(a, leaseQuestion)
	morphemes := a.Morphemes(leaseQuestion)
	if len(morphemes) == 0 || !slices.Equal(terms[:len(morphemes)], morphemes) {
		t.Fatalf("terms %v do not open with the morphemes %v", terms, morphemes)
	}
	for _, term := range terms[len(morphemes):] {
		if !strings.HasPrefix(term, "#") || term != Bigram(strings.TrimPrefix(term, "#")) {
			t.Errorf("bigram term %q is not #-marked", term)
		}
	}
	if len(terms) == len(morphemes) {
		t.Error("no bigram terms")
	}
}
