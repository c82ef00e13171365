package models

import (
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"

	"gonum.org/v1/gonum/mat"
)

// LSA is a Go-native text embedding learned from the corpus: sublinear tf·idf over morphemes,
// projected to Dim dimensions by the top singular vectors of the corpus's document-term matrix
// (latent semantic analysis), then L2-normalised. It is the baseline the TensorFlow encoder
// replaces, behind the same Embed method.
type LSA struct {
	analyzer MorphemeAnalyzer
	vocab    map[string]int32
	idf      []float32
	proj     []float32 // len(vocab) × dim, row per term
	dim      int
	info     LSAInfo
}

// Dim is the embedding size.
func (e *LSA) Dim() int { return e.dim }

// TermCount is one term of a document and how often it occurs.
type TermCount struct {
	Term  string
	Count int
}

// LSAOptions tunes fitting.
type LSAOptions struct {
	Dim        int // default 256
	MinDocFreq int // terms in fewer documents are dropped; default 5
	MaxVocab   int // the most frequent terms kept; default 30000
	Oversample int // extra random directions of the randomized SVD; default 16
	Seed       uint64
	// ShrinkToFit fits fewer dimensions when the corpus has too few documents or terms for Dim
	// (a test corpus), instead of failing; at least 2 remain.
	ShrinkToFit bool
}

func (o LSAOptions) withDefaults() LSAOptions {
	if o.Dim <= 0 {
		o.Dim = 256
	}
	if o.MinDocFreq <= 0 {
		o.MinDocFreq = 5
	}
	if o.MaxVocab <= 0 {
		o.MaxVocab = 30000
	}
	if o.Oversample <= 0 {
		o.Oversample = 16
	}
	return o
}

// sparseRow is a document as (column, weight) pairs.
type sparseRow struct {
	cols []int32
	vals []float32
}

// FitLSA learns the embedding from documents given as term counts, with a randomized SVD
// (one pass of a Gaussian range finder, then the exact SVD of the small projected matrix).
func FitLSA(docs [][]TermCount, analyzer MorphemeAnalyzer, opt LSAOptions) (*LSA, error) {
	opt = opt.withDefaults()
	df := map[string]int{}
	for _, d := range docs {
		for _, tc := range d {
			df[tc.Term]++
		}
	}
	terms := make([]string, 0, len(df))
	for t, n := range df {
		if n >= opt.MinDocFreq && n*2 <= len(docs) {
			terms = append(terms, t)
		}
	}
	sort.Slice(terms, func(i, j int) bool {
		if df[terms[i]] != df[terms[j]] {
			return df[terms[i]] > df[terms[j]]
		}
		return terms[i] < terms[j]
	})
	if len(terms) > opt.MaxVocab {
		terms = terms[:opt.MaxVocab]
	}
	if few := min(len(terms), len(docs)); opt.ShrinkToFit && few < opt.Dim+opt.Oversample {
		opt.Dim = max(2, few-opt.Oversample)
	}
	l := opt.Dim + opt.Oversample
	if len(terms) < l || len(docs) < l {
		return nil, fmt.Errorf("fit LSA: %d terms and %d documents are too few for %d dimensions", len(terms), len(docs), opt.Dim)
	}
	e := &LSA{analyzer: analyzer, vocab: make(map[string]int32, len(terms)), idf: make([]float32, len(terms)), dim: opt.Dim,
		info: LSAInfo{Dim: opt.Dim, Terms: len(terms), Docs: len(docs)}}
	for i, t := range terms {
		e.vocab[t] = int32(i)
		e.idf[i] = float32(math.Log(float64(len(docs)) / float64(df[t])))
	}
	rows := make([]sparseRow, len(docs))
	for i, d := range docs {
		rows[i] = e.row(d)
	}
	v := len(terms)

	// Y = X·Ω with Ω Gaussian (V × l); Q = orth(Y).
	rng := rand.New(rand.NewPCG(opt.Seed, 0x4c5341))
	omega := make([]float64, v*l)
	for i := range omega {
		omega[i] = rng.NormFloat64()
	}
	y := mat.NewDense(len(rows), l, nil)
	parallelRows(len(rows), func(i int) {
		out := y.RawRowView(i)
		for k, c := range rows[i].cols {
			w := float64(rows[i].vals[k])
			o := omega[int(c)*l : int(c)*l+l]
			for j := range out {
				out[j] += w * o[j]
			}
		}
	})
	// Orthonormalise Y's columns by Cholesky QR, twice for accuracy (a full QR would build an
	// N × N Q).
	qThin := y
	for range 2 {
		var err error
		if qThin, err = cholQR(qThin); err != nil {
			return nil, fmt.Errorf("fit LSA: %w", err)
		}
	}

	// B = Qᵀ·X (l × V), kept as Bᵀ (V × l) so each document adds to its own columns' rows.
	bt := make([]float64, v*l)
	var mu sync.Mutex
	parallelChunks(len(rows), func(lo, hi int) {
		local := make([]float64, v*l)
		for i := lo; i < hi; i++ {
			qi := qThin.RawRowView(i)
			for k, c := range rows[i].cols {
				w := float64(rows[i].vals[k])
				dst := local[int(c)*l : int(c)*l+l]
				for j := range dst {
					dst[j] += w * qi[j]
				}
			}
		}
		mu.Lock()
		for i := range bt {
			bt[i] += local[i]
		}
		mu.Unlock()
	})
	// Right singular vectors of B are the eigenvectors of BᵀB's small twin: B·Bᵀ = U Σ² Uᵀ,
	// V = Bᵀ U Σ⁻¹.
	btM := mat.NewDense(v, l, bt)
	var bbt mat.SymDense
	bbt.SymOuterK(1, btM.T())
	var eig mat.EigenSym
	if !eig.Factorize(&bbt, true) {
		return nil, fmt.Errorf("fit LSA: eigen-decomposition failed")
	}
	values := eig.Values(nil)
	var u mat.Dense
	eig.VectorsTo(&u)
	order := make([]int, l)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(a, b int) bool { return values[order[a]] > values[order[b]] })
	var vs mat.Dense // Bᵀ U: column k is the k-th right singular vector times σ_k
	vs.Mul(btM, &u)
	e.proj = make([]float32, v*opt.Dim)
	for k := 0; k < opt.Dim; k++ {
		col := order[k]
		sigma := math.Sqrt(math.Max(values[col], 1e-12))
		for t := 0; t < v; t++ {
			e.proj[t*opt.Dim+k] = float32(vs.At(t, col) / sigma)
		}
	}
	return e, nil
}

// row turns term counts into a normalised sublinear tf·idf row over the vocabulary.
func (e *LSA) row(d []TermCount) sparseRow {
	var r sparseRow
	var norm float64
	for _, tc := range d {
		c, ok := e.vocab[tc.Term]
		if !ok || tc.Count <= 0 {
			continue
		}
		w := (1 + float32(math.Log(float64(tc.Count)))) * e.idf[c]
		r.cols = append(r.cols, c)
		r.vals = append(r.vals, w)
		norm += float64(w * w)
	}
	if norm > 0 {
		inv := float32(1 / math.Sqrt(norm))
		for i := range r.vals {
			r.vals[i] *= inv
		}
	}
	return r
}

// EmbedCounts embeds a document given as term counts.
func (e *LSA) EmbedCounts(d []TermCount) []float32 {
	r := e.row(d)
	out := make([]float32, e.dim)
	for k, c := range r.cols {
		w := r.vals[k]
		p := e.proj[int(c)*e.dim : int(c)*e.dim+e.dim]
		for j := range out {
			out[j] += w * p[j]
		}
	}
	normalize(out)
	return out
}

// Embed embeds text through the analyzer's morphemes.
func (e *LSA) Embed(text string) []float32 {
	counts := map[string]int{}
	for _, m := range e.analyzer.Morphemes(text) {
		counts[m]++
	}
	d := make([]TermCount, 0, len(counts))
	for t, c := range counts {
		d = append(d, TermCount{t, c})
	}
	// In term order, so that the same text always sums to the same floats.
	sort.Slice(d, func(i, j int) bool { return d[i].Term < d[j].Term })
	return e.EmbedCounts(d)
}

func normalize(v []float32) {
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	if s == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
}

func parallelRows(n int, fn func(i int)) {
	parallelChunks(n, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			fn(i)
		}
	})
}

func parallelChunks(n int, fn func(lo, hi int)) {
	workers := max(1, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	step := (n + workers - 1) / workers
	for lo := 0; lo < n; lo += step {
		wg.Add(1)
		go func(lo, hi int) {
			defer wg.Done()
			fn(lo, hi)
		}(lo, min(n, lo+step))
	}
	wg.Wait()
}

// cholQR returns Y·R⁻¹ where RᵀR = YᵀY: Y's columns made orthonormal.
func cholQR(y *mat.Dense) (*mat.Dense, error) {
	_, l := y.Dims()
	var g mat.SymDense
	g.SymOuterK(1, y.T())
	for i := range l { // a whisper of ridge keeps a rank-deficient Y factorable
		g.SetSym(i, i, g.At(i, i)+1e-10)
	}
	var ch mat.Cholesky
	if !ch.Factorize(&g) {
		return nil, fmt.Errorf("Cholesky QR: the sample matrix is not positive definite")
	}
	var r mat.TriDense
	ch.UTo(&r)
	var rinv mat.TriDense
	if err := rinv.InverseTri(&r); err != nil {
		return nil, err
	}
	var q mat.Dense
	q.Mul(y, &rinv)
	return &q, nil
}

// Bytes is the memory the embedding holds: its projection, idf weights and vocabulary (so the
// residency manager can account for it).
func (e *LSA) Bytes() int64 {
	n := int64(4 * (len(e.proj) + len(e.idf)))
	for t := range e.vocab {
		n += int64(len(t)) + 4
	}
	return n
}

// Close does nothing: the embedding holds Go memory only, which the collector frees.
func (e *LSA) Close() error { return nil }
