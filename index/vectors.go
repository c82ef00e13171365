package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// VectorDir is where the embedded vector store lives inside the state directory.
const VectorDir = "vectors"

// vectorSourceFile, written last in VectorDir, says what the store was built from; a store
// without it (a build that died half way) or with another source is rebuilt.
const vectorSourceFile = "source.json"

// Dense is the dense side of similar-question and similar-precedent search: the embedder for
// the question and the store holding every Q&A pair and precedent of the state.
type Dense struct {
	Embedder models.Embedder
	Store    search.Store
	// Backend names the store for logs and /metrics: "embedded" or "milvus://host:port".
	Backend string
	// Statutes says the store holds the statute articles too (the trained encoder's space), so
	// the ranking can look for articles that mean what the question means.
	Statutes bool
}

// Close releases the store.
func (d *Dense) Close() error {
	if d == nil || d.Store == nil {
		return nil
	}
	return d.Store.Close()
}

// vectorSource is what the vectors of a state are built from: the snapshot, the analyzer and
// the embedding's format. A change to any of them rebuilds the vectors.
func vectorSource(st *state.State) string {
	return indexSource(st) + " " + fmt.Sprintf("lsa.v%d", models.LSAFormatVersion)
}

// MilvusCollection is the collection a state's vectors go to in Milvus: named after their
// source, so that a new corpus or embedding fills a fresh collection instead of mixing with the
// old one.
func MilvusCollection(st *state.State) string { return milvusCollection(vectorSource(st)) }

func milvusCollection(source string) string {
	sum := sha256.Sum256([]byte(source))
	return "lawbot_" + hex.EncodeToString(sum[:6])
}

// corpusDocs gives every precedent (title, 판시사항, 판결요지) and then every Q&A pair (question
// and answer) as term counts, read from the lexical indexes' postings, so the embedding sees
// exactly the morphemes the lexical side indexed, without analysing the text again.
func corpusDocs(ix *Lexical) ([][]models.TermCount, error) {
	np, nq := ix.Precedents.Len(), ix.QA.Len()
	docs := make([]map[string]int, np+nq)
	for i := range docs {
		docs[i] = map[string]int{}
	}
	add := func(index *search.Index, offset int, fields ...string) error {
		for _, f := range fields {
			if err := index.EachPosting(f, func(term string, doc int32, tf int) {
				docs[offset+int(doc)][term] += tf
			}); err != nil {
				return err
			}
		}
		return nil
	}
	if err := add(ix.Precedents, 0, "title", "holding", "summary"); err != nil {
		return nil, err
	}
	if err := add(ix.QA, np, "question", "answer"); err != nil {
		return nil, err
	}
	out := make([][]models.TermCount, len(docs))
	for i, d := range docs {
		out[i] = make([]models.TermCount, 0, len(d))
		for t, c := range d {
			out[i] = append(out[i], models.TermCount{Term: t, Count: c})
		}
	}
	return out, nil
}

// vectorRecords embeds the corpus documents (every precedent, then every Q&A pair) into store
// records.
func vectorRecords(st *state.State, e *models.LSA, docs [][]models.TermCount) []search.Record {
	out := make([]search.Record, len(docs))
	for i, d := range docs {
		out[i] = documentRecord(st, i, e.EmbedCounts(d))
	}
	return out
}

// BuildVectors fits the Go-native embedding on the corpus (precedents and Q&A pairs), saves it
// in the state's models directory and fills the embedded vector store in the state directory
// with every precedent and Q&A pair. Progress goes to w.
func BuildVectors(ctx context.Context, st *state.State, ix *Lexical, w io.Writer) error {
	start := time.Now()
	docs, err := corpusDocs(ix)
	if err != nil {
		return fmt.Errorf("build vectors: %w", err)
	}
	if w != nil {
		fmt.Fprintf(w, "fitting the embedding on %d precedents and Q&A pairs…\n", len(docs))
	}
	opt := models.LSAOptions{Seed: 1, ShrinkToFit: true}
	if len(docs) < 2000 { // a test or demo corpus: keep rarer terms, fit what it can carry
		opt.MinDocFreq, opt.Oversample = 2, 2
	}
	e, err := models.FitLSA(docs, search.DefaultAnalyzer(), opt)
	if err != nil {
		return fmt.Errorf("build vectors: %w", err)
	}
	e.SetSource(search.AnalyzerVersion, vectorSource(st))
	if err := e.Save(models.LSAPath(st.Dir)); err != nil {
		return err
	}
	fitted := time.Since(start)
	records := vectorRecords(st, e, docs)

	if err := writeStore(ctx, filepath.Join(st.Dir, VectorDir), e.Dim(), vectorSource(st), records, w); err != nil {
		return fmt.Errorf("build vectors: %w", err)
	}
	if w != nil {
		fmt.Fprintf(w, "embedded %d documents in %d dimensions (fit %s, graph %s)\n", len(records), e.Dim(),
			fitted.Round(100*time.Millisecond), (time.Since(start) - fitted).Round(100*time.Millisecond))
	}
	return nil
}

// VectorsCurrent reports whether the state's embedded vectors and embedding were built from
// this state; when not, the reason.
func VectorsCurrent(st *state.State) (bool, string) {
	if ok, why := vectorsCurrent(st, filepath.Join(st.Dir, VectorDir), vectorSource(st), len(st.Precedents)+len(st.QA)); !ok {
		return false, why
	}
	if _, err := os.Stat(models.LSAPath(st.Dir)); err != nil {
		return false, "no embedding model"
	}
	return true, ""
}

// OpenDense loads the embedding and opens the vector store that spec names: "embedded" (the
// store in the state directory), or "milvus://host:port" (a Milvus server, filled from the
// embedding when its collection is not complete). Progress of a Milvus fill goes to w.
func OpenDense(ctx context.Context, st *state.State, ix *Lexical, spec string, w io.Writer) (*Dense, error) {
	if spec != "" && spec != "embedded" && !strings.HasPrefix(spec, "milvus://") {
		return nil, fmt.Errorf("vector store %q: want embedded or milvus://HOST:PORT", spec)
	}
	if ok, why := VectorsCurrent(st); !ok {
		return nil, fmt.Errorf("%w in %s (%s); run lawbot ingest", ErrNoVectors, st.Dir, why)
	}
	e, err := models.LoadLSA(models.LSAPath(st.Dir), search.DefaultAnalyzer())
	if err != nil {
		return nil, err
	}
	if got := e.Info(); got.Source != vectorSource(st) {
		return nil, fmt.Errorf("%w: the embedding was fitted on another corpus; run lawbot ingest --force", ErrNoVectors)
	}
	store, backend, err := openStore(ctx, filepath.Join(st.Dir, VectorDir), vectorSource(st), e.Dim(), len(st.Precedents)+len(st.QA), spec, w,
		func() ([]search.Record, error) {
			docs, err := corpusDocs(ix)
			if err != nil {
				return nil, err
			}
			return vectorRecords(st, e, docs), nil
		})
	if err != nil {
		return nil, err
	}
	return &Dense{Embedder: e, Store: store, Backend: backend}, nil
}
