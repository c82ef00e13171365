package advice

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
)

func TestFuse(t *testing.T) {
	lex := []ranked{{1, 10}, {2, 8}, {3, 5}}
	dense := []ranked{{4, 0.9}, {2, 0.8}, {5, 0.5}}
	cases := []struct {
		name   string
		w      float32
		method int
		k      int
		want   []int32
	}{
		{"weight 0 is the lexical list", 0, FusionRRF, 3, []int32{1, 2, 3}},
		{"weight 0 cuts to k", 0, FusionRRF, 2, []int32{1, 2}},
		{"rrf: in both lists beats first in one", 0.5, FusionRRF, 5, []int32{2, 1, 4, 3, 5}},
		{"rrf: weight 1 is the dense list", 1, FusionRRF, 3, []int32{4, 2, 5}},
		{"rrf: a tiny weight keeps the lexical order", 0.01, FusionRRF, 3, []int32{1, 2, 3}},
		{"rrf: a small weight lifts what both lists hold", 0.1, FusionRRF, 3, []int32{2, 1, 3}},
		{"convex: equal weights", 0.5, FusionConvex, 5, []int32{2, 1, 4, 3, 5}},
		{"convex: weight 1 is the dense list", 1, FusionConvex, 2, []int32{4, 2}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := fuse(lex, dense, c.w, c.method, 60, c.k)
			var ids []int32
			for _, h := range got {
				ids = append(ids, h.N)
			}
			if !slices.Equal(ids, c.want) {
				t.Fatalf("order %v, want %v", ids, c.want)
			}
			if got[0].Score != lex[0].Score {
				t.Errorf("best fused score %v, want the best lexical score %v", got[0].Score, lex[0].Score)
			}
			for i := 1; i < len(got); i++ {
				if got[i].Score > got[i-1].Score {
					t.Errorf("scores not descending: %v", got)
				}
			}
		})
	}
	if got := fuse(lex, nil, 0.5, FusionRRF, 60, 2); len(got) != 2 || got[0].N != 1 {
		t.Errorf("no dense list: %v", got)
	}
	if got := fuse(nil, dense, 0.5, FusionRRF, 60, 2); len(got) != 0 {
		t.Errorf("no lexical list: %v (the dense side refines, it does not answer alone)", got)
	}
}

// denseFixture builds the fixture corpus's indexes and vectors in a fresh state directory.
func denseFixture(t *testing.T) (*Retriever, string) {
	t.Helper()
	stateDir := t.TempDir()
	st := testcorpus.Ingest(t, testcorpus.CorpusDir(), stateDir)
	ctx := context.Background()
	ix, err := index.BuildLexical(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.BuildVectors(ctx, st, ix, nil); err != nil {
		t.Fatal(err)
	}
	r := NewRetriever(st, ix, search.DefaultAnalyzer())
	d, err := index.OpenDense(ctx, st, ix, "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	r.Dense = d
	return r, stateDir
}

func TestDenseSearchOverFixture(t *testing.T) {
	r, _ := denseFixture(t)
	ctx := context.Background()
	if n, err := r.Dense.Store.Count(ctx); err != nil || n != len(r.State.Precedents)+len(r.State.QA) {
		t.Fatalf("store holds %d (%v), want every precedent and Q&A pair", n, err)
	}
	// A precedent's own 판시사항 finds it among the nearest on the dense side alone (the fixture's
	// embedding has only a dozen dimensions, so near-duplicates may tie).
	for n := range r.State.Precedents {
		p := &r.State.Precedents[n]
		if p.Holding == "" {
			continue
		}
		q := r.Analyze(p.Holding)
		got := r.denseSearch(ctx, &Counters{}, q, index.KindPrecedent, 3, search.Filter{})
		if !slices.ContainsFunc(got, func(h ranked) bool { return h.N == int32(n) }) {
			t.Errorf("precedent %s: dense search of its own 판시사항 gave %v", p.CaseNo, got)
		}
	}
	// Kinds stay apart, and precedent filters reach the store.
	q := r.Analyze("임대차 보증금 반환")
	for _, h := range r.denseSearch(ctx, &Counters{}, q, index.KindQA, 10, search.Filter{}) {
		if int(h.N) >= len(r.State.QA) {
			t.Errorf("qa search returned number %d of %d Q&A pairs", h.N, len(r.State.QA))
		}
	}
	withDense := NewPipeline(r, nil)
	withDense.Params.DensePrecedents = 0.5
	for _, m := range withDense.SearchPrecedents(ctx, "임대차 보증금 반환", 10, PrecedentFilter{CaseType: "형사"}) {
		if m.Precedent.CaseType != "형사" {
			t.Errorf("filtered search returned a %s case %s", m.Precedent.CaseType, m.Precedent.CaseNo)
		}
	}
	// Full dense weight orders precedents by the store; no weight, by BM25 alone.
	lexical := *r
	lexical.Dense = nil
	text := "임대인이 보증금을 돌려주지 않는다"
	want := NewPipeline(&lexical, nil).SearchPrecedents(ctx, text, 5, PrecedentFilter{})
	if got := NewPipeline(r, nil).SearchPrecedents(ctx, text, 5, PrecedentFilter{}); !slices.Equal(numbers(got), numbers(want)) {
		t.Errorf("dense weight 0 changed the ranking: %v vs %v", numbers(got), numbers(want))
	}
	onlyDense := NewPipeline(r, nil)
	onlyDense.Params.DensePrecedents = 1
	nearest := r.denseSearch(ctx, &Counters{}, r.Analyze(text), index.KindPrecedent, onlyDense.Params.DenseDepth, search.Filter{})
	got := onlyDense.SearchPrecedents(ctx, text, 3, PrecedentFilter{})
	for i := range got {
		if got[i].N != nearest[i].N {
			t.Fatalf("dense weight 1: %v, want the store's order %v", numbers(got), nearest[:3])
		}
	}
}

func numbers(ms []PrecedentMatch) []int32 {
	out := make([]int32, len(ms))
	for i, m := range ms {
		out[i] = m.N
	}
	return out
}

// failingStore is a vector store that is down.
type failingStore struct{ search.Store }

func (failingStore) Search(context.Context, search.Vector, int, search.Filter) ([]search.Match, error) {
	return nil, errors.New("connection refused")
}

func TestDenseFailureFallsBackToLexical(t *testing.T) {
	r, _ := denseFixture(t)
	ctx := context.Background()
	lexical := *r
	lexical.Dense = nil
	down := *r
	down.Dense = &index.Dense{Embedder: r.Dense.Embedder, Store: failingStore{}, Backend: "test"}
	broken := NewPipeline(&down, nil) // its own counters, so the count is exact
	broken.Params.DenseQA, broken.Params.DensePrecedents = 0.5, 0.5
	text := "집주인이 보증금을 안 돌려줘요"
	got := broken.SearchPrecedents(ctx, text, 5, PrecedentFilter{})
	want := NewPipeline(&lexical, nil).SearchPrecedents(ctx, text, 5, PrecedentFilter{})
	if !slices.Equal(numbers(got), numbers(want)) {
		t.Errorf("with the store down: %v, want the lexical %v", numbers(got), numbers(want))
	}
	if got := broken.Counters.DenseFailures.Load(); got != 1 {
		t.Errorf("%d failures counted for one search, want 1", got)
	}
	// The whole request: its similar questions and precedents fall back, each counted.
	res, err := broken.Advise(ctx, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.SimilarQuestions) == 0 || len(res.Precedents) == 0 {
		t.Error("no similar questions or precedents with the store down")
	}
	if got := broken.Counters.DenseFailures.Load(); got != 3 {
		t.Errorf("failures counted %d, want 3 (one search, then the request's questions and precedents)", got)
	}
	if len(res.Degraded) != 1 || res.Degraded[0].Code != DegradedDense {
		t.Errorf("degraded %+v, want one %s", res.Degraded, DegradedDense)
	}
	// An embedder that cannot be reached (a model server down) degrades the same way.
	unreachable := *r
	unreachable.Dense = &index.Dense{Embedder: downEncoder{dim: r.Dense.Embedder.Dim()}, Store: r.Dense.Store, Backend: "test"}
	p := NewPipeline(&unreachable, nil)
	p.Params.DenseQA, p.Params.DensePrecedents = 0.5, 0.5
	res, err = p.Advise(ctx, text, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Degraded) != 1 || res.Degraded[0].Code != DegradedDense || len(res.Precedents) == 0 {
		t.Errorf("embedder down: degraded %+v, %d precedents", res.Degraded, len(res.Precedents))
	}
	if res, _ := NewPipeline(&lexical, nil).Advise(ctx, text, nil); len(res.Degraded) != 0 {
		t.Errorf("nothing failed, yet degraded %+v", res.Degraded)
	}
}

// downEncoder is an encoder whose server cannot be reached.
type downEncoder struct{ dim int }

func (e downEncoder) Dim() int               { return e.dim }
func (e downEncoder) Embed(string) []float32 { return make([]float32, e.dim) }
func (e downEncoder) EmbedContext(context.Context, string) ([]float32, error) {
	return nil, models.ErrModelsUnavailable
}

func TestQueryEmbeddingReusesTheAnalysis(t *testing.T) {
	r, _ := denseFixture(t)
	for _, text := range []string{"임대인이 보증금을 돌려주지 않는다", "전세권 등기 말소와 전세금 반환은 동시이행 관계인가"} {
		q := r.Analyze(text)
		if q.vec.done {
			t.Fatalf("%q: Analyze embedded the query; only a dense search should", text)
		}
		got, want := r.embedQuery(q), r.Dense.Embedder.Embed(text)
		if len(got) != len(want) {
			t.Fatalf("%q: vector of %d values, want %d", text, len(got), len(want))
		}
		for i := range want { // same terms, summed in another order
			if d := got[i] - want[i]; d > 1e-5 || d < -1e-5 {
				t.Errorf("%q: query vector from the analysis differs from embedding the text at %d: %v vs %v", text, i, got[i], want[i])
				break
			}
		}
	}
}

func TestDensePrecedentsAtTheDepth(t *testing.T) {
	r, _ := denseFixture(t)
	withDense := NewPipeline(r, nil)
	withDense.Params.DensePrecedents, withDense.Params.DenseDepth = 1, 3
	text := "임대인이 보증금을 돌려주지 않는다"
	nearest := r.denseSearch(context.Background(), &Counters{}, r.Analyze(text), index.KindPrecedent, 5, search.Filter{})
	// Asking for as many as (or more than) the dense depth still fuses.
	got := withDense.SearchPrecedents(context.Background(), text, 5, PrecedentFilter{})
	if len(got) == 0 || got[0].N != nearest[0].N {
		t.Errorf("k ≥ dense depth: first %v, want the store's nearest %d", numbers(got), nearest[0].N)
	}
	if got := fuse([]ranked{{1, 1}}, []ranked{{2, 1}}, 0.5, FusionConvex, 60, 0); got != nil {
		t.Errorf("fuse with k = 0: %v", got)
	}
}

func TestSemanticArticlesJoinTheRanking(t *testing.T) {
	r, _ := denseFixture(t)
	ctx := context.Background()
	e := testcorpus.HashEmbedder{}
	if err := index.BuildEncoderVectors(ctx, r.State, e, "encoder.v1 dddd", nil); err != nil {
		t.Fatal(err)
	}
	d, err := index.OpenEncoderDense(ctx, r.State, e, "encoder.v1 dddd", "embedded", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	encoded := *r
	encoded.Dense = d
	withEncoder := NewPipeline(&encoded, nil)
	// The question is an article's own text: with weight on meaning, that article leads and
	// says why.
	a := &r.State.Statutes[len(r.State.Statutes)-1]
	text := a.Document()
	withEncoder.Params.DenseStatutes = 50
	_, _, got := retrieve(t, withEncoder, text, 10)
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
	_, _, off := retrieve(t, withEncoder, text, 10)
	_, _, lexical := retrieve(t, NewPipeline(r, nil), text, 10)
	if !sameArticles(off, lexical) {
		t.Error("dense_statutes=0 changed the ranking")
	}
}
