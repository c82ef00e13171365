package index

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// IndexDir is where the lexical indexes live inside the state directory.
const IndexDir = "index"

// Index field layouts. Every text field has a morpheme field and a character-bigram field
// ("#" marks bigram terms so that they never collide with a two-syllable morpheme).
func statuteFields() []string {
	return []string{"law", "law#", "title", "title#", "text", "text#", "chapter", "chapter#"}
}

func precedentFields() []string {
	return []string{"title", "title#", "holding", "holding#", "summary", "summary#"}
}

func qaFields() []string { return []string{"question", "question#", "answer", "answer#"} }

// Fields are the field names of the statute, precedent and Q&A indexes, in the order their
// field weights (search.Params.Fields) are given.
func Fields() (statutes, precedents, qa []string) {
	return statuteFields(), precedentFields(), qaFields()
}

// Lexical are the lexical indexes over the corpus of a state.
type Lexical struct {
	Statutes, Precedents, QA *search.Index
}

// indexSpec names one index file, its fields and how to read its documents' texts.
type indexSpec struct {
	name   string
	fields []string
	n      int
	texts  func(i int) []string
	slot   func(*Lexical) **search.Index
}

func indexSpecs(st *state.State) []indexSpec {
	return []indexSpec{
		{"statutes.idx", statuteFields(), len(st.Statutes), func(i int) []string {
			s := &st.Statutes[i]
			return []string{s.Law, s.Title, s.Text, s.Chapter}
		}, func(x *Lexical) **search.Index { return &x.Statutes }},
		{"precedents.idx", precedentFields(), len(st.Precedents), func(i int) []string {
			p := &st.Precedents[i]
			return []string{p.Title, p.Holding, p.Summary}
		}, func(x *Lexical) **search.Index { return &x.Precedents }},
		{"qa.idx", qaFields(), len(st.QA), func(i int) []string {
			q := &st.QA[i]
			return []string{q.Question, q.Answer}
		}, func(x *Lexical) **search.Index { return &x.QA }},
	}
}

// analyze turns one document's texts into terms for its fields: morphemes, then bigrams.
func analyze(a *search.Analyzer, texts []string) [][]string {
	out := make([][]string, 0, 2*len(texts))
	for _, t := range texts {
		out = append(out, a.Morphemes(t), bigramTerms(a.Bigrams(t)))
	}
	return out
}

func bigramTerms(grams []string) []string {
	for i, g := range grams {
		grams[i] = Bigram(g)
	}
	return grams
}

// Bigram is the index term of a character bigram: "#"-marked, apart from the morphemes.
func Bigram(gram string) string { return "#" + gram }

// IsBigram reports whether an index term is a character bigram rather than a morpheme.
func IsBigram(term string) bool { return strings.HasPrefix(term, "#") }

// QueryTerms analyses a query as the indexes analysed their documents: its content morphemes,
// then its character bigrams.
func QueryTerms(a *search.Analyzer, text string) []string {
	terms := a.Morphemes(text)
	return append(terms, bigramTerms(a.Bigrams(text))...)
}

// BuildLexical analyses the corpus (in parallel, one worker per core) and writes the indexes
// into the state directory, tagged with the snapshot they were built from. Progress goes to w.
// It stops, with ctx's error, between windows of documents once ctx ends.
func BuildLexical(ctx context.Context, st *state.State, w io.Writer) (*Lexical, error) {
	ix, _, err := BuildLexicalFrom(ctx, st, nil, w)
	return ix, err
}

// Parent is a version an index build may take unchanged documents from: its state and the
// indexes built from it (with the same analyzer).
type Parent struct {
	State   *state.State
	Lexical *Lexical
	// MaxDrift overrides the package's MaxDrift for BuildVectorsFrom (0: MaxDrift).
	MaxDrift float64
}

// Reuse counts what an incremental build took from its parent.
type Reuse struct {
	Analysed, Copied int
}

// BuildLexicalFrom is BuildLexical that copies, instead of analysing again, every document
// whose analysed texts are those of a document of parent (nil: none): the morpheme analysis is
// nearly all of an index build's time, and a weekly corpus changes a few percent of it. The
// indexes it writes hold the same terms, frequencies and lengths as a full build.
func BuildLexicalFrom(ctx context.Context, st *state.State, parent *Parent, w io.Writer) (*Lexical, Reuse, error) {
	a := search.DefaultAnalyzer()
	dir := filepath.Join(st.Dir, IndexDir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, Reuse{}, err
	}
	specs := indexSpecs(st)
	var parentSpecs []indexSpec
	if parent != nil {
		parentSpecs = indexSpecs(parent.State)
	}
	// Which parent document each document copies (-1: analyse it).
	from := make([][]int32, len(specs))
	var reuse Reuse
	var totalBytes int64
	for s, f := range specs {
		from[s] = make([]int32, f.n)
		var known map[textsKey]int32
		if parent != nil && *parentSpecs[s].slot(parent.Lexical) != nil {
			p := parentSpecs[s]
			known = make(map[textsKey]int32, p.n)
			for j := p.n - 1; j >= 0; j-- {
				known[keyOf(p.texts(j))] = int32(j)
			}
		}
		for i := range f.n {
			texts := f.texts(i)
			j, ok := known[keyOf(texts)]
			if !ok {
				j = -1
				for _, t := range texts {
					totalBytes += int64(len(t))
				}
				reuse.Analysed++
			} else {
				reuse.Copied++
			}
			from[s][i] = j
		}
	}
	var bar *progress.Bar
	if w != nil {
		bar = progress.New(w, progress.Options{Label: "index", Total: totalBytes})
	}
	var doneBytes, docs int64
	var out Lexical
	for s, f := range specs {
		b := search.NewBuilder(f.fields...)
		var fw *search.Forward
		if parent != nil && slices.ContainsFunc(from[s], func(j int32) bool { return j >= 0 }) {
			fw = (*parentSpecs[s].slot(parent.Lexical)).Forward()
		}
		var copyErr error
		err := analyzeInOrder(ctx, f.n, func(i int) [][]string {
			if from[s][i] >= 0 {
				return nil
			}
			return analyze(a, f.texts(i))
		}, func(i int, terms [][]string) {
			if j := from[s][i]; j >= 0 {
				if _, err := b.AddFrom(fw, j); err != nil && copyErr == nil {
					copyErr = err
				}
			} else {
				b.Add(terms...)
				for _, t := range f.texts(i) {
					doneBytes += int64(len(t))
				}
			}
			docs++
			if bar != nil {
				bar.Update(doneBytes, docs)
			}
		})
		if err == nil {
			err = copyErr
		}
		if err != nil {
			if bar != nil {
				bar.Break()
			}
			return nil, Reuse{}, fmt.Errorf("build index %s: %w", f.name, err)
		}
		ix := b.Build()
		if err := ix.Save(filepath.Join(dir, f.name), indexSource(st)); err != nil {
			return nil, Reuse{}, fmt.Errorf("save index %s: %w", f.name, err)
		}
		*f.slot(&out) = ix
	}
	if bar != nil {
		bar.Finish()
	}
	return &out, reuse, nil
}

// textsKey identifies a document by the texts the index analyses of it.
type textsKey [16]byte

func keyOf(texts []string) textsKey {
	h := sha256.New()
	for _, t := range texts {
		h.Write([]byte(t))
		h.Write([]byte{0})
	}
	var k textsKey
	copy(k[:], h.Sum(nil))
	return k
}

// analyzeInOrder runs work over 0..n-1 on every core and hands the results to add in order,
// holding at most a window of results in memory; it returns ctx's error once ctx ends.
func analyzeInOrder(ctx context.Context, n int, work func(i int) [][]string, add func(i int, terms [][]string)) error {
	workers := max(1, runtime.GOMAXPROCS(0))
	const window = 512
	for start := 0; start < n; start += window {
		if err := ctx.Err(); err != nil {
			return err
		}
		end := min(n, start+window)
		results := make([][][]string, end-start)
		var wg sync.WaitGroup
		next := make(chan int)
		for range workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range next {
					results[i-start] = work(i)
				}
			}()
		}
		for i := start; i < end; i++ {
			next <- i
		}
		close(next)
		wg.Wait()
		for i, r := range results {
			add(start+i, r)
		}
	}
	return nil
}

// ErrNoIndex means the state has no lexical index yet.
var ErrNoIndex = errors.New("no index")

// LoadLexical reads the state's indexes, refusing ones built from another snapshot (the error
// then matches search.ErrStale).
func LoadLexical(st *state.State) (*Lexical, error) {
	var out Lexical
	for _, f := range indexSpecs(st) {
		path := filepath.Join(st.Dir, IndexDir, f.name)
		ix, err := search.Load(path, indexSource(st))
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w in %s; run lawbot ingest", ErrNoIndex, st.Dir)
		}
		if err != nil {
			return nil, err
		}
		if ix.Len() != f.n {
			return nil, fmt.Errorf("index %s holds %d documents, the state %d: %w", path, ix.Len(), f.n, search.ErrStale)
		}
		*f.slot(&out) = ix
	}
	return &out, nil
}

// indexSource tags an index with what it was built from: the snapshot and the analyzer.
func indexSource(st *state.State) string {
	return st.Snapshot.Checksum + " " + search.AnalyzerVersion
}
