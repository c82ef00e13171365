package index

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/search"
)

func TestEncoderVectors(t *testing.T) {
	st, _, stateDir := withVectors(t)
	ctx := context.Background()
	e := testcorpus.HashEmbedder{}
	if ok, _ := EncoderVectorsCurrent(st, "encoder.v1 aaaa"); ok {
		t.Fatal("encoder vectors current before any build")
	}
	if _, err := OpenEncoderDense(ctx, st, e, "encoder.v1 aaaa", "embedded", nil); err == nil {
		t.Fatal("opened encoder vectors that were never built")
	}
	if err := BuildEncoderVectors(ctx, st, e, "encoder.v1 aaaa", nil); err != nil {
		t.Fatal(err)
	}
	if ok, why := EncoderVectorsCurrent(st, "encoder.v1 aaaa"); !ok {
		t.Fatalf("not current after building: %s", why)
	}
	if ok, _ := EncoderVectorsCurrent(st, "encoder.v1 bbbb"); ok {
		t.Error("another model version's vectors count as current")
	}
	d, err := OpenEncoderDense(ctx, st, e, "encoder.v1 aaaa", "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if n, _ := d.Store.Count(ctx); n != len(st.Precedents)+len(st.QA)+len(st.Statutes) || !d.Statutes {
		t.Fatalf("store holds %d (statutes %v), want every precedent, Q&A pair and article", n, d.Statutes)
	}
	// Each document's own text finds it first.
	np, nq := len(st.Precedents), len(st.QA)
	for i := range np + nq + len(st.Statutes) {
		kind, n := KindPrecedent, i
		switch {
		case i >= np+nq:
			kind, n = KindStatute, i-np-nq
		case i >= np:
			kind, n = KindQA, i-np
		}
		m, err := d.Store.Search(ctx, e.Embed(documentText(st, i)), 1, search.Filter{Kind: kind})
		if err != nil || len(m) == 0 || m[0].ID != RecordID(kind, n) {
			t.Errorf("document %d: nearest %v (%v)", i, m, err)
		}
	}
	// The LSA's vectors are untouched: both spaces live side by side.
	if _, err := os.Stat(filepath.Join(stateDir, VectorDir, vectorSourceFile)); err != nil {
		t.Errorf("LSA vectors gone: %v", err)
	}
	if v, err := EncoderVersion(t.TempDir()); err == nil {
		t.Errorf("EncoderVersion of an empty dir = %q, want an error", v)
	}
}

// brokenEmbedder fails on its second batch.
type brokenEmbedder struct {
	testcorpus.HashEmbedder
	mu    sync.Mutex
	calls int
}

func (b *brokenEmbedder) EmbedBatch(texts []string) ([][]float32, error) {
	b.mu.Lock()
	b.calls++
	c := b.calls
	b.mu.Unlock()
	if c >= 1 {
		return nil, errors.New("session closed")
	}
	return b.HashEmbedder.EmbedBatch(texts)
}

func TestEncoderVectorsReportEmbedderErrors(t *testing.T) {
	st, _, _ := withVectors(t)
	err := BuildEncoderVectors(context.Background(), st, &brokenEmbedder{}, "encoder.v1 cccc", nil)
	if err == nil || !strings.Contains(err.Error(), "session closed") {
		t.Fatalf("err = %v, want the embedder's error", err)
	}
	if ok, _ := EncoderVectorsCurrent(st, "encoder.v1 cccc"); ok {
		t.Error("a failed build counts as current")
	}
}
