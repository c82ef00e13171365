package advice

import (
	"context"
	"errors"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/lawbot-kr/lawbot/search"
)

// hashEmbedder is a stand-in for the TensorFlow encoder in tests of the vector plumbing: each
// text's characters hashed into 8 dimensions, L2-normalised.
type hashEmbedder struct{}

func (h *hashEmbedder) Dim() int { return 8 }
func (h *hashEmbedder) Embed(text string) []float32 {
	v := make([]float32, 8)
	for _, r := range text {
		f := fnv.New32a()
		f.Write([]byte(string(r)))
		v[f.Sum32()%8]++
	}
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	if s > 0 {
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
	}
	return v
}
func (h *hashEmbedder) EmbedBatch(texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.Embed(t)
	}
	return out, nil
}

func TestEncoderVectors(t *testing.T) {
	r, stateDir := denseFixture(t)
	st := r.State
	ctx := context.Background()
	e := &hashEmbedder{}
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
		if err != nil || len(m) == 0 || m[0].ID != recordID(kind, n) {
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
	hashEmbedder
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
	return b.hashEmbedder.EmbedBatch(texts)
}

func TestEncoderVectorsReportEmbedderErrors(t *testing.T) {
	r, _ := denseFixture(t)
	err := BuildEncoderVectors(context.Background(), r.State, &brokenEmbedder{}, "encoder.v1 cccc", nil)
	if err == nil || !strings.Contains(err.Error(), "session closed") {
		t.Fatalf("err = %v, want the embedder's error", err)
	}
	if ok, _ := EncoderVectorsCurrent(r.State, "encoder.v1 cccc"); ok {
		t.Error("a failed build counts as current")
	}
}

func TestSemanticArticlesJoinTheRanking(t *testing.T) {
	r, _ := denseFixture(t)
	ctx := context.Background()
	e := &hashEmbedder{}
	if err := BuildEncoderVectors(ctx, r.State, e, "encoder.v1 dddd", nil); err != nil {
		t.Fatal(err)
	}
	d, err := OpenEncoderDense(ctx, r.State, e, "encoder.v1 dddd", "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	withEncoder := *r
	withEncoder.Dense = d
	// The question is an article's own text: with weight on meaning, that article leads and
	// says why.
	a := &r.State.Statutes[len(r.State.Statutes)-1]
	text := a.Title + "\n" + a.Text
	withEncoder.Params.DenseStatutes = 50
	_, _, got := retrieve(t, &withEncoder, text, 10)
	if len(got) == 0 || got[0].Statute.ID() != a.ID() {
		t.Fatalf("first article %v, want %s", got, a.ID())
	}
	semantic := false
	for _, reason := range got[0].Reasons {
		semantic = semantic || (reason.Kind == "semantic" && reason.String() != "")
	}
	if !semantic {
		t.Errorf("reasons %+v: want a semantic one", got[0].Reasons)
	}
	// Weight 0: the ranking without the encoder's articles.
	withEncoder.Params.DenseStatutes = 0
	_, _, off := retrieve(t, &withEncoder, text, 10)
	_, _, lexical := retrieve(t, r, text, 10)
	if !sameArticles(off, lexical) {
		t.Error("dense_statutes=0 changed the ranking")
	}
}
