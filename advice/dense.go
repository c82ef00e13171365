package advice

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// VectorDir is where the embedded vector store lives inside the state directory.
const VectorDir = "vectors"

// vectorSourceFile, written last in VectorDir, says what the store was built from; a store
// without it (a build that died half way) or with another source is rebuilt.
const vectorSourceFile = "source.json"

// Record kinds and id prefixes in the vector store.
const (
	KindQA        = "qa"
	KindPrecedent = "precedent"
	KindStatute   = "statute"
)

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

func recordID(kind string, n int) string { return kind + "/" + strconv.Itoa(n) }

// parseRecordID is recordID's inverse; ok is false for ids of another kind or shape.
func parseRecordID(id, kind string) (int32, bool) {
	rest, ok := strings.CutPrefix(id, kind+"/")
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(rest, 10, 32)
	return int32(n), err == nil && n >= 0
}

// corpusDocs gives every precedent (title, 판시사항, 판결요지) and then every Q&A pair (question
// and answer) as term counts, read from the lexical indexes' postings, so the embedding sees
// exactly the morphemes the lexical side indexed, without analysing the text again.
func corpusDocs(ix *Indexes) ([][]models.TermCount, error) {
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

// vectorRecords embeds the corpus documents into store records.
func vectorRecords(st *state.State, e *models.LSA, docs [][]models.TermCount) []search.Record {
	np := len(st.Precedents)
	out := make([]search.Record, len(docs))
	for i, d := range docs {
		r := search.Record{Vector: e.EmbedCounts(d)}
		if i < np {
			p := &st.Precedents[i]
			r.ID = recordID(KindPrecedent, i)
			r.Fields = search.Fields{Kind: KindPrecedent, Court: p.CourtLevel, CaseType: p.CaseType, Date: p.Date}
		} else {
			r.ID = recordID(KindQA, i-np)
			r.Fields = search.Fields{Kind: KindQA}
		}
		out[i] = r
	}
	return out
}

// BuildVectors fits the Go-native embedding on the corpus (precedents and Q&A pairs), saves it
// in the state's models directory and fills the embedded vector store in the state directory
// with every precedent and Q&A pair. Progress goes to w.
func BuildVectors(ctx context.Context, st *state.State, ix *Indexes, w io.Writer) error {
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

// writeStore replaces the embedded store in dir with records, and marks it built from source
// last, so that a build that dies half way is never taken for a finished one.
func writeStore(ctx context.Context, dir string, dim int, source string, records []search.Record, w io.Writer) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	store, err := search.NewEmbedded(dir, dim)
	if err != nil {
		return err
	}
	defer store.Close()
	if err := upsertAll(ctx, store, records, "vectors", w); err != nil {
		return err
	}
	if err := store.Flush(); err != nil {
		return err
	}
	return writeVectorSource(dir, source, len(records))
}

// upsertAll writes records in batches large enough for the store's parallel build, with a
// progress bar.
func upsertAll(ctx context.Context, store search.Store, records []search.Record, label string, w io.Writer) error {
	const batch = 8192
	var bar *progress.Bar
	if w != nil {
		bar = progress.New(w, progress.Options{Label: label, Total: int64(len(records)), Unit: "vectors"})
	}
	for lo := 0; lo < len(records); lo += batch {
		hi := min(lo+batch, len(records))
		if err := store.Upsert(ctx, records[lo:hi]); err != nil {
			if bar != nil {
				bar.Break()
			}
			return fmt.Errorf("store vectors: %w", err)
		}
		if bar != nil {
			bar.Update(int64(hi), int64(hi))
		}
	}
	if bar != nil {
		bar.Finish()
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

// vectorSourceInfo is the content of a store's vectorSourceFile.
type vectorSourceInfo struct {
	Source  string `json:"source"`
	Records int    `json:"records"`
}

func writeVectorSource(dir, source string, records int) error {
	data, err := json.Marshal(vectorSourceInfo{source, records})
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, vectorSourceFile), data)
}

// vectorsCurrent reports whether the store in dir was built, to the end, from source.
func vectorsCurrent(st *state.State, dir, source string, want int) (bool, string) {
	data, err := os.ReadFile(filepath.Join(dir, vectorSourceFile))
	if errors.Is(err, fs.ErrNotExist) {
		return false, "no vectors yet"
	}
	if err != nil {
		return false, err.Error()
	}
	var src vectorSourceInfo
	if err := json.Unmarshal(data, &src); err != nil {
		return false, "unreadable " + vectorSourceFile
	}
	if src.Source != source || src.Records != want {
		return false, "the vectors were built from another corpus or model"
	}
	return true, ""
}

// ErrNoVectors means the state has no current vectors: lawbot ingest builds them.
var ErrNoVectors = errors.New("no current vectors")

// OpenDense loads the embedding and opens the vector store that spec names: "embedded" (the
// store in the state directory), or "milvus://host:port" (a Milvus server, filled from the
// embedding when its collection is not complete). Progress of a Milvus fill goes to w.
func OpenDense(ctx context.Context, st *state.State, ix *Indexes, spec string, w io.Writer) (*Dense, error) {
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

// openStore opens the store spec names for the vectors of source: the embedded store in dir,
// which must hold every record, or a Milvus collection named after source, filled from records
// when it is not complete.
func openStore(ctx context.Context, dir, source string, dim, want int, spec string, w io.Writer,
	records func() ([]search.Record, error)) (search.Store, string, error) {
	if spec == "" || spec == "embedded" {
		store, err := search.NewEmbedded(dir, dim)
		if err != nil {
			return nil, "", err
		}
		if n, _ := store.Count(ctx); n != want {
			store.Close()
			return nil, "", fmt.Errorf("%w: the vector store holds %d records, the state %d; run lawbot ingest --force", ErrNoVectors, n, want)
		}
		return store, "embedded", nil
	}
	addr, ok := strings.CutPrefix(spec, "milvus://")
	if !ok {
		return nil, "", fmt.Errorf("vector store %q: want embedded or milvus://HOST:PORT", spec)
	}
	collection := milvusCollection(source)
	store, err := search.NewMilvus(ctx, addr, collection, dim)
	if err != nil {
		return nil, "", err
	}
	n, err := store.Count(ctx)
	if err != nil {
		store.Close()
		return nil, "", err
	}
	if n != want {
		recs, err := records()
		if err != nil {
			store.Close()
			return nil, "", err
		}
		if w != nil {
			fmt.Fprintf(w, "filling Milvus collection %s at %s (%d of %d records there)\n", collection, addr, n, want)
		}
		if err := upsertAll(ctx, store, recs, "milvus", w); err != nil {
			store.Close()
			return nil, "", err
		}
	}
	return store, spec, nil
}
