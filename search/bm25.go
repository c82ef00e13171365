package search

import (
	"container/heap"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"
)

// Field weights and length normalisation of one field, applied at query time (BM25F): a term's
// frequency in a document is the weighted sum over fields of tf / (1 − b + b·len/avglen).
type FieldWeight struct {
	Weight float32
	B      float32
}

// Params tunes a BM25F search.
type Params struct {
	K1     float32
	Fields []FieldWeight // one per index field, in the index's field order
}

// Hit is one ranked document.
type Hit struct {
	Doc   int32
	Score float32
}

// Index is an immutable BM25F inverted index over documents with named fields. Documents are
// numbered 0..N-1 in the order they were added, which is the corpus order of the state.
type Index struct {
	fields []string
	terms  map[string]int32
	df     []int32 // documents containing the term in any field

	// Postings of term t in field f: docs[f][off[f][t]:off[f][t+1]] with frequencies tf[f][…].
	off  [][]uint32
	docs [][]int32
	tf   [][]uint16

	length [][]uint32 // per field, per document: number of terms
	avg    []float32  // per field: mean length
	n      int32

	scratch   sync.Pool // *queryScratch, sized for n
	normMu    sync.Mutex
	normCache map[normKey][]float32
}

// Fields names the index's fields in order.
func (ix *Index) Fields() []string { return ix.fields }

// Len is the number of documents.
func (ix *Index) Len() int { return int(ix.n) }

// DocFreq is the number of documents holding term in any field.
func (ix *Index) DocFreq(term string) int {
	if t, ok := ix.terms[term]; ok {
		return int(ix.df[t])
	}
	return 0
}

// IDF is the BM25 inverse document frequency of a term (0 for an unknown term).
func (ix *Index) IDF(term string) float32 {
	t, ok := ix.terms[term]
	if !ok {
		return 0
	}
	return idf(ix.n, ix.df[t])
}

func idf(n, df int32) float32 {
	return float32(math.Log(1 + (float64(n)-float64(df)+0.5)/(float64(df)+0.5)))
}

// Builder collects documents for an Index.
type Builder struct {
	fields []string
	terms  map[string]int32
	df     []int32
	// postings per field, per term, in document order
	post   [][][]posting
	length [][]uint32
	n      int32
	seen   []int32 // last document that counted a term in df
}

type posting struct {
	doc int32
	tf  uint16
}

// NewBuilder starts an index with the given fields.
func NewBuilder(fields ...string) *Builder {
	b := &Builder{fields: fields, terms: map[string]int32{}, post: make([][][]posting, len(fields)),
		length: make([][]uint32, len(fields))}
	return b
}

// Add appends the next document: its terms per field, in field order. It returns the
// document's number.
func (b *Builder) Add(fieldTerms ...[]string) int32 {
	doc := b.n
	b.n++
	counts := map[int32]uint16{}
	for f := range b.fields {
		var terms []string
		if f < len(fieldTerms) {
			terms = fieldTerms[f]
		}
		clear(counts)
		for _, term := range terms {
			t := b.termID(term)
			if counts[t] < math.MaxUint16 {
				counts[t]++
			}
		}
		for t, c := range counts {
			for int(t) >= len(b.post[f]) {
				b.post[f] = append(b.post[f], nil)
			}
			b.post[f][t] = append(b.post[f][t], posting{doc, c})
			if b.seen[t] != doc {
				b.seen[t] = doc
				b.df[t]++
			}
		}
		b.length[f] = append(b.length[f], uint32(len(terms)))
	}
	return doc
}

// termID is term's number, given it now when the builder has not met it yet.
func (b *Builder) termID(term string) int32 {
	t, ok := b.terms[term]
	if !ok {
		t = int32(len(b.df))
		b.terms[term] = t
		b.df = append(b.df, 0)
		b.seen = append(b.seen, -1)
	}
	return t
}

// Build freezes the postings into flat arrays.
func (b *Builder) Build() *Index {
	ix := &Index{fields: b.fields, terms: b.terms, df: b.df, n: b.n, length: b.length,
		off: make([][]uint32, len(b.fields)), docs: make([][]int32, len(b.fields)), tf: make([][]uint16, len(b.fields))}
	nterms := len(b.df)
	for f := range b.fields {
		off := make([]uint32, nterms+1)
		total := 0
		for t := 0; t < nterms; t++ {
			off[t] = uint32(total)
			if t < len(b.post[f]) {
				total += len(b.post[f][t])
			}
		}
		off[nterms] = uint32(total)
		docs, tfs := make([]int32, 0, total), make([]uint16, 0, total)
		for t := 0; t < nterms && t < len(b.post[f]); t++ {
			for _, p := range b.post[f][t] {
				docs = append(docs, p.doc)
				tfs = append(tfs, p.tf)
			}
		}
		ix.off[f], ix.docs[f], ix.tf[f] = off, docs, tfs
	}
	ix.finish()
	return ix
}

// finish computes what queries need beyond the stored arrays.
func (ix *Index) finish() {
	ix.avg = make([]float32, len(ix.fields))
	for f := range ix.fields {
		var sum float64
		for _, l := range ix.length[f] {
			sum += float64(l)
		}
		if ix.n > 0 {
			ix.avg[f] = float32(sum / float64(ix.n))
		}
		if ix.avg[f] == 0 {
			ix.avg[f] = 1
		}
	}
	n := int(ix.n)
	ix.scratch.New = func() any {
		return &queryScratch{score: make([]float32, n), tf: make([]float32, n)}
	}
}

type queryScratch struct {
	score, tf      []float32
	touched, terms []int32
	inTerm         []int32
}

// QueryTerm is one term of a query with its weight (its count in the query, or a tuned weight).
type QueryTerm struct {
	Term   string
	Weight float32
}

// Terms counts terms into weighted query terms, in order of first appearance.
func Terms(terms []string) []QueryTerm {
	idx := map[string]int{}
	var out []QueryTerm
	for _, t := range terms {
		if i, ok := idx[t]; ok {
			out[i].Weight++
			continue
		}
		idx[t] = len(out)
		out = append(out, QueryTerm{t, 1})
	}
	return out
}

// Search ranks documents for the query and returns the best k (all matches when k ≤ 0).
func (ix *Index) Search(query []QueryTerm, p Params, k int) []Hit {
	return ix.SearchFiltered(query, p, k, nil)
}

// SearchFiltered is Search over the documents keep accepts (nil keeps all).
func (ix *Index) SearchFiltered(query []QueryTerm, p Params, k int, keep func(doc int32) bool) []Hit {
	if ix.n == 0 || len(query) == 0 {
		return nil
	}
	s := ix.scratch.Get().(*queryScratch)
	defer ix.scratch.Put(s)
	s.touched = s.touched[:0]
	norms := make([][]float32, len(ix.fields)) // per field: weight / length normalisation, lazily
	for _, q := range query {
		t, ok := ix.terms[q.Term]
		if !ok || q.Weight == 0 {
			continue
		}
		w := idf(ix.n, ix.df[t]) * q.Weight
		s.inTerm = s.inTerm[:0]
		for f := range ix.fields {
			if f >= len(p.Fields) || p.Fields[f].Weight == 0 {
				continue
			}
			lo, hi := ix.off[f][t], ix.off[f][t+1]
			if lo == hi {
				continue
			}
			if norms[f] == nil {
				norms[f] = ix.fieldNorms(f, p.Fields[f])
			}
			nf := norms[f]
			docs, tfs := ix.docs[f][lo:hi], ix.tf[f][lo:hi]
			for i, d := range docs {
				if s.tf[d] == 0 {
					s.inTerm = append(s.inTerm, d)
				}
				s.tf[d] += float32(tfs[i]) * nf[d]
			}
		}
		for _, d := range s.inTerm {
			tf := s.tf[d]
			s.tf[d] = 0
			if s.score[d] == 0 {
				s.touched = append(s.touched, d)
			}
			s.score[d] += w * tf / (p.K1 + tf)
		}
	}
	hits := topK(s.score, s.touched, k, keep)
	for _, d := range s.touched {
		s.score[d] = 0
	}
	return hits
}

// fieldNorms caches weight/(1 − b + b·len/avg) per document for one field and parameter pair.
func (ix *Index) fieldNorms(f int, fw FieldWeight) []float32 {
	key := normKey{f, fw}
	ix.normMu.Lock()
	defer ix.normMu.Unlock()
	if ix.normCache == nil {
		ix.normCache = map[normKey][]float32{}
	}
	if v, ok := ix.normCache[key]; ok {
		return v
	}
	out := make([]float32, ix.n)
	for d, l := range ix.length[f] {
		out[d] = fw.Weight / (1 - fw.B + fw.B*float32(l)/ix.avg[f])
	}
	if len(ix.normCache) > 64 { // tuning sweeps many parameter sets; keep memory bounded
		clear(ix.normCache)
	}
	ix.normCache[key] = out
	return out
}

type normKey struct {
	field int
	fw    FieldWeight
}

// topK selects the k best scored documents, best first; ties go to the lower document number.
func topK(score []float32, docs []int32, k int, keep func(int32) bool) []Hit {
	if k <= 0 || k > len(docs) {
		k = len(docs)
	}
	h := make(hitHeap, 0, k)
	for _, d := range docs {
		if keep != nil && !keep(d) {
			continue
		}
		hit := Hit{d, score[d]}
		if len(h) < k {
			heap.Push(&h, hit)
		} else if better(hit, h[0]) {
			h[0] = hit
			heap.Fix(&h, 0)
		}
	}
	out := []Hit(h)
	sort.Slice(out, func(i, j int) bool { return better(out[i], out[j]) })
	return slices.Clip(out)
}

func better(a, b Hit) bool { return a.Score > b.Score || (a.Score == b.Score && a.Doc < b.Doc) }

// hitHeap is a min-heap by score: the root is the weakest of the current best k.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}

// EachPosting calls fn for every posting of a field: the term, a document holding it and how
// often. Models fitted on the corpus (the LSA embedder) read the documents' terms this way
// instead of analysing the text again.
func (ix *Index) EachPosting(field string, fn func(term string, doc int32, tf int)) error {
	f := slices.Index(ix.fields, field)
	if f < 0 {
		return fmt.Errorf("index has no field %q (%v)", field, ix.fields)
	}
	terms := make([]string, len(ix.df))
	for t, id := range ix.terms {
		terms[id] = t
	}
	for t := range terms {
		lo, hi := ix.off[f][t], ix.off[f][t+1]
		for i := lo; i < hi; i++ {
			fn(terms[t], ix.docs[f][i], int(ix.tf[f][i]))
		}
	}
	return nil
}

// Forward is an index turned around: each document's terms and frequencies per field, so that
// documents an update left unchanged can be copied into a new index without analysing their
// text again.
type Forward struct {
	src *Index
	// per field: document d's postings are at[f][d]..at[f][d+1] of term[f] and tf[f]
	at   [][]uint32
	term [][]int32
	tf   [][]uint16

	namesOnce sync.Once
	names     []string
}

// Forward inverts the postings into per-document lists, in one pass over them.
func (ix *Index) Forward() *Forward {
	fw := &Forward{src: ix, at: make([][]uint32, len(ix.fields)), term: make([][]int32, len(ix.fields)),
		tf: make([][]uint16, len(ix.fields))}
	nterms := len(ix.df)
	for f := range ix.fields {
		at := make([]uint32, ix.n+1)
		for _, d := range ix.docs[f] {
			at[d+1]++
		}
		for d := int32(0); d < ix.n; d++ {
			at[d+1] += at[d]
		}
		next := slices.Clone(at[:ix.n])
		term, tf := make([]int32, len(ix.docs[f])), make([]uint16, len(ix.docs[f]))
		for t := 0; t < nterms; t++ {
			for i := ix.off[f][t]; i < ix.off[f][t+1]; i++ {
				d := ix.docs[f][i]
				term[next[d]], tf[next[d]] = int32(t), ix.tf[f][i]
				next[d]++
			}
		}
		fw.at[f], fw.term[f], fw.tf[f] = at, term, tf
	}
	return fw
}

// Fields names the fields of the index the view was taken from.
func (fw *Forward) Fields() []string { return fw.src.fields }

// AddFrom appends document doc of fw's index as the builder's next document, exactly as if its
// terms had been added again (the same frequencies and field lengths). The builder must have
// the same fields. It returns the new document's number.
func (b *Builder) AddFrom(fw *Forward, doc int32) (int32, error) {
	if !slices.Equal(b.fields, fw.src.fields) {
		return 0, fmt.Errorf("copy document: fields %v, want %v", fw.src.fields, b.fields)
	}
	if doc < 0 || doc >= fw.src.n {
		return 0, fmt.Errorf("copy document %d of %d", doc, fw.src.n)
	}
	names := fw.termNames()
	nd := b.n
	b.n++
	for f := range b.fields {
		for i := fw.at[f][doc]; i < fw.at[f][doc+1]; i++ {
			t := b.termID(names[fw.term[f][i]])
			for int(t) >= len(b.post[f]) {
				b.post[f] = append(b.post[f], nil)
			}
			b.post[f][t] = append(b.post[f][t], posting{nd, fw.tf[f][i]})
			if b.seen[t] != nd {
				b.seen[t] = nd
				b.df[t]++
			}
		}
		b.length[f] = append(b.length[f], fw.src.length[f][doc])
	}
	return nd, nil
}

// termNames lists the source index's terms by id, computed once.
func (fw *Forward) termNames() []string {
	fw.namesOnce.Do(func() {
		fw.names = make([]string, len(fw.src.df))
		for t, id := range fw.src.terms {
			fw.names[id] = t
		}
	})
	return fw.names
}
