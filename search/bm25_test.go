package search

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
)

// build makes an index over title and body from space-separated terms per document.
func build(docs ...[2]string) *Index {
	b := NewBuilder("title", "body")
	for _, d := range docs {
		b.Add(strings.Fields(d[0]), strings.Fields(d[1]))
	}
	return b.Build()
}

// params gives title and body the weights wt, wb and length normalisation b.
func params(wt, wb, b float32) Params {
	return Params{K1: 1.2, Fields: []FieldWeight{{Weight: wt, B: b}, {Weight: wb, B: b}}}
}

func query(terms string) []QueryTerm { return Terms(strings.Fields(terms)) }

func docsOf(hits []Hit) []int32 {
	out := make([]int32, len(hits))
	for i, h := range hits {
		out[i] = h.Doc
	}
	return out
}

func TestSearchRanking(t *testing.T) {
	tests := []struct {
		name  string
		docs  [][2]string
		query string
		p     Params
		k     int
		want  []int32
	}{
		{
			name:  "a term only one document holds ranks it first",
			docs:  [][2]string{{"", "임대차 보증금 반환"}, {"", "임대차 보증금 차임"}, {"", "임대차 보증금 전세"}},
			query: "임대차 보증금 차임",
			p:     params(1, 1, 0.75),
			want:  []int32{1, 0, 2},
		},
		{
			name:  "only the document holding a rare term matches it",
			docs:  [][2]string{{"", "임대차 보증금"}, {"", "임대차 차임"}, {"", "임대차 전세"}},
			query: "전세",
			p:     params(1, 1, 0.75),
			want:  []int32{2},
		},
		{
			name:  "a field of weight 0 does not count",
			docs:  [][2]string{{"임대차", "매매"}, {"매매", "임대차 임대차"}},
			query: "임대차",
			p:     params(1, 0, 0.75),
			want:  []int32{0},
		},
		{
			name:  "with both fields the body's two occurrences win",
			docs:  [][2]string{{"임대차", "매매 매매"}, {"매매", "임대차 임대차"}},
			query: "임대차",
			p:     params(1, 1, 0),
			want:  []int32{1, 0},
		},
		{
			name:  "a heavier title flips the order",
			docs:  [][2]string{{"임대차", "매매 매매"}, {"매매", "임대차 임대차"}},
			query: "임대차",
			p:     params(3, 1, 0),
			want:  []int32{0, 1},
		},
		{
			name: "b=0: raw frequency, the long document with two hits wins",
			docs: [][2]string{
				{"", "보증금 보증금 " + strings.Repeat("기타 ", 18)},
				{"", "보증금 반환"},
			},
			query: "보증금",
			p:     params(1, 1, 0),
			want:  []int32{0, 1},
		},
		{
			name: "b=1: length normalised, the short document wins",
			docs: [][2]string{
				{"", "보증금 보증금 " + strings.Repeat("기타 ", 18)},
				{"", "보증금 반환"},
			},
			query: "보증금",
			p:     params(1, 1, 1),
			want:  []int32{1, 0},
		},
		{
			name:  "equal scores go to the lower document number",
			docs:  [][2]string{{"", "매매"}, {"", "임대차 전세"}, {"", "매매"}, {"", "전세 임대차"}, {"", "임대차 전세"}},
			query: "임대차",
			p:     params(1, 1, 0.75),
			want:  []int32{1, 3, 4},
		},
		{
			name:  "equal scores cut by k keep the lowest numbers",
			docs:  [][2]string{{"", "임대차"}, {"", "임대차"}, {"", "임대차"}, {"", "임대차"}, {"", "임대차"}},
			query: "임대차",
			p:     params(1, 1, 0.75),
			k:     2,
			want:  []int32{0, 1},
		},
		{
			name:  "k limits the hits to the best",
			docs:  [][2]string{{"", "임대차"}, {"", "임대차 보증금 차임"}, {"", "보증금"}, {"", "임대차 보증금"}},
			query: "임대차 보증금 차임",
			p:     params(1, 1, 0),
			k:     2,
			want:  []int32{1, 3},
		},
		{
			name:  "unknown terms find nothing",
			docs:  [][2]string{{"임대차", "보증금"}},
			query: "형법 사기",
			p:     params(1, 1, 0.75),
		},
		{
			name:  "an empty query finds nothing",
			docs:  [][2]string{{"임대차", "보증금"}},
			query: "",
			p:     params(1, 1, 0.75),
		},
		{
			name:  "fields missing from Params do not count",
			docs:  [][2]string{{"매매", "임대차"}, {"임대차", "매매"}},
			query: "임대차",
			p:     Params{K1: 1.2, Fields: []FieldWeight{{Weight: 1, B: 0.75}}},
			want:  []int32{1},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ix := build(tt.docs...)
			hits := ix.Search(query(tt.query), tt.p, tt.k)
			if got := docsOf(hits); !slices.Equal(got, tt.want) {
				t.Errorf("Search(%q) = %v (%v), want docs %v", tt.query, got, hits, tt.want)
			}
			for i, h := range hits {
				if !(h.Score > 0) || math.IsInf(float64(h.Score), 0) {
					t.Errorf("hit %d: score %v", i, h.Score)
				}
				if i > 0 && h.Score > hits[i-1].Score {
					t.Errorf("hits out of order: %v", hits)
				}
			}
		})
	}
}

func TestSearchScoreByHand(t *testing.T) {
	// One field, three documents: "a b", "a a c d", "c".
	b := NewBuilder("body")
	b.Add([]string{"a", "b"})
	b.Add([]string{"a", "a", "c", "d"})
	b.Add([]string{"c"})
	ix := b.Build()
	const k1, bb = 1.2, 0.75
	avg := 7.0 / 3
	idfA := math.Log(1 + (3-2+0.5)/(2+0.5))
	tf := func(f, l float64) float64 { return f / (1 - bb + bb*l/avg) }
	want := map[int32]float64{
		0: idfA * tf(1, 2) / (k1 + tf(1, 2)),
		1: idfA * tf(2, 4) / (k1 + tf(2, 4)),
	}
	hits := ix.Search(query("a"), Params{K1: k1, Fields: []FieldWeight{{1, bb}}}, 0)
	if len(hits) != 2 {
		t.Fatalf("hits = %v, want docs 0 and 1", hits)
	}
	for _, h := range hits {
		if w, ok := want[h.Doc]; !ok || math.Abs(float64(h.Score)-w) > 1e-5 {
			t.Errorf("doc %d score %v, want %v", h.Doc, h.Score, w)
		}
	}
	if got := ix.IDF("a"); math.Abs(float64(got)-idfA) > 1e-6 {
		t.Errorf("IDF(a) = %v, want %v", got, idfA)
	}

	// A query term's weight multiplies its contribution.
	once := ix.Search([]QueryTerm{{"c", 1}}, Params{K1: k1, Fields: []FieldWeight{{1, bb}}}, 0)
	twice := ix.Search([]QueryTerm{{"c", 2}}, Params{K1: k1, Fields: []FieldWeight{{1, bb}}}, 0)
	if len(once) != 2 || len(twice) != 2 {
		t.Fatalf("hits for c: %v and %v", once, twice)
	}
	for i := range once {
		if once[i].Doc != twice[i].Doc || math.Abs(float64(twice[i].Score-2*once[i].Score)) > 1e-5 {
			t.Errorf("weight 2 gives %v, weight 1 gives %v", twice[i], once[i])
		}
	}
	if hits := ix.Search([]QueryTerm{{"a", 0}}, Params{K1: k1, Fields: []FieldWeight{{1, bb}}}, 0); len(hits) != 0 {
		t.Errorf("a query term of weight 0 found %v", hits)
	}
}

func TestSearchFiltered(t *testing.T) {
	var docs [][2]string
	for i := range 10 {
		docs = append(docs, [2]string{"", strings.Repeat("임대차 ", i%3+1) + fmt.Sprint("doc", i)})
	}
	ix := build(docs...)
	p := params(1, 1, 0.5)
	even := func(d int32) bool { return d%2 == 0 }
	all := ix.Search(query("임대차"), p, 0)
	if len(all) != 10 {
		t.Fatalf("unfiltered: %d hits, want 10", len(all))
	}
	got := ix.SearchFiltered(query("임대차"), p, 3, even)
	if len(got) != 3 {
		t.Fatalf("filtered k=3: %v", got)
	}
	// The filtered hits are the best even documents of the unfiltered ranking, in its order.
	var want []int32
	for _, h := range all {
		if even(h.Doc) && len(want) < 3 {
			want = append(want, h.Doc)
		}
	}
	if !slices.Equal(docsOf(got), want) {
		t.Errorf("filtered = %v, want %v (unfiltered %v)", docsOf(got), want, docsOf(all))
	}
	if got := ix.SearchFiltered(query("임대차"), p, 0, func(int32) bool { return false }); len(got) != 0 {
		t.Errorf("reject-all filter kept %v", got)
	}
	if got := ix.SearchFiltered(query("임대차"), p, 0, nil); !slices.Equal(got, all) {
		t.Errorf("nil filter: %v, want %v", got, all)
	}
	// The scratch space is reset between queries: the same query twice scores the same.
	if again := ix.Search(query("임대차"), p, 0); !slices.Equal(again, all) {
		t.Errorf("second search %v differs from first %v", again, all)
	}
}

func TestSearchConcurrent(t *testing.T) {
	ix := synthIndex(2000, 500, 1)
	qs := synthQueries(50, 500, 2)
	p := params(2, 1, 0.75)
	want := make([][]Hit, len(qs))
	for i, q := range qs {
		want[i] = ix.Search(q, p, 10)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8*len(qs))
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i, q := range qs {
				if got := ix.Search(q, p, 10); !slices.Equal(got, want[i]) {
					errs <- fmt.Sprintf("query %d: concurrent %v, serial %v", i, got, want[i])
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

func TestTerms(t *testing.T) {
	got := Terms([]string{"보증금", "반환", "보증금", "#보증", "보증금", "반환"})
	want := []QueryTerm{{"보증금", 3}, {"반환", 2}, {"#보증", 1}}
	if !slices.Equal(got, want) {
		t.Errorf("Terms = %v, want %v", got, want)
	}
	if got := Terms(nil); len(got) != 0 {
		t.Errorf("Terms(nil) = %v", got)
	}
}

func TestDocFreqAndIDF(t *testing.T) {
	ix := build(
		[2]string{"임대차", "임대차 보증금"}, // in both fields: counted once
		[2]string{"", "보증금 차임"},
		[2]string{"", "보증금"},
	)
	for term, want := range map[string]int{"임대차": 1, "보증금": 3, "차임": 1, "형법": 0} {
		if got := ix.DocFreq(term); got != want {
			t.Errorf("DocFreq(%q) = %d, want %d", term, got, want)
		}
	}
	if ix.IDF("형법") != 0 {
		t.Errorf("IDF of an unknown term = %v, want 0", ix.IDF("형법"))
	}
	if !(ix.IDF("임대차") > ix.IDF("보증금")) || !(ix.IDF("보증금") > 0) {
		t.Errorf("IDF(임대차) = %v, IDF(보증금) = %v: want rare > common > 0", ix.IDF("임대차"), ix.IDF("보증금"))
	}
	if ix.Len() != 3 || !slices.Equal(ix.Fields(), []string{"title", "body"}) {
		t.Errorf("Len %d, Fields %v", ix.Len(), ix.Fields())
	}
}

func TestEmptyIndex(t *testing.T) {
	ix := NewBuilder("title", "body").Build()
	if hits := ix.Search(query("임대차"), params(1, 1, 0.75), 10); hits != nil {
		t.Errorf("empty index found %v", hits)
	}
	// A document given fewer field lists than the index has fields is empty in the rest.
	b := NewBuilder("title", "body")
	b.Add([]string{"임대차"})
	ix = b.Build()
	if hits := ix.Search(query("임대차"), params(1, 1, 0.75), 10); len(hits) != 1 {
		t.Errorf("hits = %v, want doc 0", hits)
	}
}

// synthIndex builds n documents (title of about 5 terms, body of about 60) over a vocabulary of
// vocab terms drawn with a Zipf-like law, as in real text.
func synthIndex(n, vocab int, seed uint64) *Index {
	rng := rand.New(rand.NewPCG(seed, 1))
	z := rand.NewZipf(rng, 1.1, 2, uint64(vocab-1))
	b := NewBuilder("title", "body")
	for range n {
		title := make([]string, 2+rng.IntN(6))
		for i := range title {
			title[i] = fmt.Sprint("t", z.Uint64())
		}
		body := make([]string, 20+rng.IntN(80))
		for i := range body {
			body[i] = fmt.Sprint("t", z.Uint64())
		}
		b.Add(title, body)
	}
	return b.Build()
}

// synthQueries draws queries of 5 to 15 terms from the same law as synthIndex.
func synthQueries(n, vocab int, seed uint64) [][]QueryTerm {
	rng := rand.New(rand.NewPCG(seed, 2))
	z := rand.NewZipf(rng, 1.1, 2, uint64(vocab-1))
	out := make([][]QueryTerm, n)
	for i := range out {
		terms := make([]string, 5+rng.IntN(11))
		for j := range terms {
			terms[j] = fmt.Sprint("t", z.Uint64())
		}
		out[i] = Terms(terms)
	}
	return out
}

var (
	benchOnce    sync.Once
	benchIndex   *Index
	benchQueries [][]QueryTerm
)

// BenchmarkSearch ranks 50,000 synthetic documents for queries of 5–15 Zipf-drawn terms.
func BenchmarkSearch(b *testing.B) {
	benchOnce.Do(func() {
		benchIndex = synthIndex(50_000, 50_000, 7)
		benchQueries = synthQueries(256, 50_000, 8)
	})
	p := params(2, 1, 0.75)
	for _, k := range []int{10, 100} {
		b.Run(fmt.Sprint("k=", k), func(b *testing.B) {
			i := 0
			for b.Loop() {
				benchIndex.Search(benchQueries[i%len(benchQueries)], p, k)
				i++
			}
		})
	}
	b.Run("filtered", func(b *testing.B) {
		keep := func(d int32) bool { return d%3 != 0 }
		i := 0
		for b.Loop() {
			benchIndex.SearchFiltered(benchQueries[i%len(benchQueries)], p, 10, keep)
			i++
		}
	})
}

func TestEachPostingListsEveryDocumentTerm(t *testing.T) {
	b := NewBuilder("title", "text")
	b.Add([]string{"임대차"}, []string{"보증금", "보증금", "반환"})
	b.Add(nil, []string{"반환"})
	ix := b.Build()
	got := map[string]int{}
	if err := ix.EachPosting("text", func(term string, doc int32, tf int) {
		got[fmt.Sprintf("%s/%d", term, doc)] = tf
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"보증금/0": 2, "반환/0": 1, "반환/1": 1}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("postings %v, want %v", got, want)
	}
	if err := ix.EachPosting("nope", func(string, int32, int) {}); err == nil {
		t.Error("an unknown field should be an error")
	}
}
