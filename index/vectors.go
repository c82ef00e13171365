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
	return corpusDocsOf(ix, nil)
}

// corpusDocsOf is corpusDocs for the documents keep accepts (nil: all); the others stay nil.
func corpusDocsOf(ix *Lexical, keep func(i int) bool) ([][]models.TermCount, error) {
	np, nq := ix.Precedents.Len(), ix.QA.Len()
	docs := make([]map[string]int, np+nq)
	for i := range docs {
		if keep == nil || keep(i) {
			docs[i] = map[string]int{}
		}
	}
	add := func(index *search.Index, offset int, fields ...string) error {
		for _, f := range fields {
			if err := index.EachPosting(f, func(term string, doc int32, tf int) {
				if d := docs[offset+int(doc)]; d != nil {
					d[term] += tf
				}
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
		if d == nil {
			continue
		}
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

// MaxDrift is the share of the documents an incremental vector build may embed with an
// embedding fitted on an older corpus (summed over the builds since the fit): beyond it,
// BuildVectorsFrom fits again on the whole corpus.
const MaxDrift = 0.10

// VectorReuse says how an incremental vector build went: the records it embedded and removed,
// and the documents embedded since the embedding was fitted (the drift), or Refit with the
// reason when it built everything again.
type VectorReuse struct {
	Embedded, Removed, Kept int
	Moved                   int // kept, under the id of their new place
	Drift                   int
	Refit                   string
}

// BuildVectorsFrom updates the vectors of parent (nil: build them all) into the state: the
// parent's embedding and vector store are kept, the precedents and Q&A pairs that are new or
// changed at their place are embedded and upserted, those past the new ends removed. A store
// id is a document's place (precedent/12), so documents appended by the update cost one
// insert each, where a full build refits the embedding and rebuilds the graph; a document
// that only moved (the decisions after an insertion) keeps its vector under its new id. Once the
// documents embedded since the fit pass MaxDrift of the corpus, or when the parent's vectors
// are not current, it builds them all.
func BuildVectorsFrom(ctx context.Context, st *state.State, ix *Lexical, parent *Parent, w io.Writer) (VectorReuse, error) {
	full := func(why string) (VectorReuse, error) {
		n := len(st.Precedents) + len(st.QA)
		return VectorReuse{Embedded: n, Refit: why}, BuildVectors(ctx, st, ix, w)
	}
	if parent == nil {
		return full("no parent")
	}
	if ok, why := VectorsCurrent(parent.State); !ok {
		return full("the parent's vectors: " + why)
	}
	psrc, err := readVectorSource(filepath.Join(parent.State.Dir, VectorDir))
	if err != nil {
		return full(err.Error())
	}
	e, err := models.LoadLSA(models.LSAPath(parent.State.Dir), search.DefaultAnalyzer())
	if err != nil {
		return full(err.Error())
	}
	// What changed at each place: precedents, then Q&A pairs.
	keys := func(s *state.State) (prec, qa []textsKey) {
		for i := range s.Precedents {
			p := &s.Precedents[i]
			prec = append(prec, keyOf([]string{p.Title, p.Holding, p.Summary, p.CourtLevel, p.CaseType, p.Date}))
		}
		for i := range s.QA {
			q := &s.QA[i]
			qa = append(qa, keyOf([]string{q.Question, q.Answer}))
		}
		return prec, qa
	}
	pp, pq := keys(parent.State)
	np, nq := keys(st)
	// Per kind: a document at the same place with the same key is kept; one whose key the parent
	// has at another place (unclaimed) is renamed there; any other is embedded. Parent places
	// left unclaimed are removed.
	changed := map[int]bool{}
	renames := map[string]string{}
	var removed []string
	diff := func(kind string, offset int, old, cur []textsKey) {
		claimed := make([]bool, len(old))
		for i, k := range cur {
			if i < len(old) && old[i] == k {
				claimed[i] = true
			}
		}
		at := map[textsKey][]int{}
		for j := len(old) - 1; j >= 0; j-- {
			if !claimed[j] {
				at[old[j]] = append(at[old[j]], j)
			}
		}
		for i, k := range cur {
			if i < len(old) && old[i] == k {
				continue
			}
			if js := at[k]; len(js) > 0 {
				j := js[len(js)-1]
				at[k] = js[:len(js)-1]
				claimed[j] = true
				renames[RecordID(kind, j)] = RecordID(kind, i)
				continue
			}
			changed[offset+i] = true
		}
		for j := range old {
			if !claimed[j] {
				removed = append(removed, RecordID(kind, j))
			}
		}
	}
	diff(KindPrecedent, 0, pp, np)
	diff(KindQA, len(np), pq, nq)
	total := len(np) + len(nq)
	drift := psrc.Drift + len(changed) + len(removed)
	maxDrift := MaxDrift
	if parent.MaxDrift > 0 {
		maxDrift = parent.MaxDrift
	}
	if float64(drift) > maxDrift*float64(total) {
		return full(fmt.Sprintf("%d documents embedded since the fit, more than %.0f %% of %d", drift, 100*maxDrift, total))
	}
	dir := filepath.Join(st.Dir, VectorDir)
	if err := carryStore(filepath.Join(parent.State.Dir, VectorDir), dir); err != nil {
		return VectorReuse{}, err
	}
	docs, err := corpusDocsOf(ix, func(i int) bool { return changed[i] })
	if err != nil {
		return VectorReuse{}, err
	}
	records := make([]search.Record, 0, len(changed))
	for i := range total {
		if changed[i] {
			records = append(records, documentRecord(st, i, e.EmbedCounts(docs[i])))
		}
	}
	store, err := search.NewEmbedded(dir, e.Dim())
	if err != nil {
		return VectorReuse{}, err
	}
	defer store.Close()
	// Removed first, so their ids are free for the renames; then the new and changed records.
	if err := store.Delete(ctx, removed); err != nil {
		return VectorReuse{}, err
	}
	if err := store.Rename(ctx, renames); err != nil {
		return VectorReuse{}, err
	}
	if err := upsertAll(ctx, store, records, "vectors", w); err != nil {
		return VectorReuse{}, err
	}
	if err := store.Flush(); err != nil {
		return VectorReuse{}, err
	}
	if n, _ := store.Count(ctx); n != total {
		return VectorReuse{}, fmt.Errorf("update vectors: the store holds %d records, the state %d", n, total)
	}
	e.SetSource(search.AnalyzerVersion, vectorSource(st))
	if err := e.Save(models.LSAPath(st.Dir)); err != nil {
		return VectorReuse{}, err
	}
	src := vectorSourceInfo{Source: vectorSource(st), Records: total, Drift: drift}
	if err := writeVectorSourceInfo(dir, src); err != nil {
		return VectorReuse{}, err
	}
	return VectorReuse{Embedded: len(records), Removed: len(removed), Moved: len(renames), Kept: total - len(records), Drift: drift}, nil
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
