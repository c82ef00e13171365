package index

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// EncoderVectorDir holds the vectors of the trained encoder, beside the LSA's VectorDir: a
// build without TensorFlow still has the LSA's to fall back on.
const EncoderVectorDir = "vectors-encoder"

// BatchEmbedder embeds texts in batches: the trained TensorFlow encoder.
type BatchEmbedder interface {
	models.Embedder
	EmbedBatch(texts []string) ([][]float32, error)
}

// EncoderVersion identifies a SavedModel by the checksum of its graph and variable index, so
// that vectors made by another training run are never mixed with this one's.
func EncoderVersion(dir string) (string, error) {
	h := sha256.New()
	for _, f := range []string{"saved_model.pb", filepath.Join("variables", "variables.index")} {
		data, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			return "", fmt.Errorf("encoder version: %w", err)
		}
		h.Write(data)
	}
	return "encoder.v1 " + hex.EncodeToString(h.Sum(nil)[:8]), nil
}

func encoderSource(st *state.State, version string) string {
	return indexSource(st) + " " + version + " +statutes"
}

// encoderDocuments is how many documents the encoder's space holds: every precedent, Q&A pair
// and statute article.
func encoderDocuments(st *state.State) int {
	return len(st.Precedents) + len(st.QA) + len(st.Statutes)
}

// encoderRecords embeds every precedent, Q&A pair and statute article with the encoder, in batches of 64 spread
// over one worker per core (the tokeniser's morpheme analysis is most of the cost; sessions take
// concurrent runs), with a progress bar.
func encoderRecords(ctx context.Context, st *state.State, e BatchEmbedder, w io.Writer) ([]search.Record, error) {
	n := encoderDocuments(st)
	const batch = 64
	var bar *progress.Bar
	if w != nil {
		bar = progress.New(w, progress.Options{Label: "encode", Total: int64(n), Unit: "documents"})
	}
	out := make([]search.Record, n)
	batches := (n + batch - 1) / batch
	next := make(chan int)
	done := make(chan int)
	errs := make(chan error, 1)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := range next {
				lo, hi := b*batch, min(b*batch+batch, n)
				texts := make([]string, 0, hi-lo)
				for i := lo; i < hi; i++ {
					texts = append(texts, documentText(st, i))
				}
				vecs, err := e.EmbedBatch(texts)
				if err == nil && len(vecs) != len(texts) {
					err = fmt.Errorf("%d vectors for %d texts", len(vecs), len(texts))
				}
				if err != nil {
					select {
					case errs <- fmt.Errorf("encode documents %d–%d: %w", lo, hi, err):
					default:
					}
					cancel()
					return
				}
				for j, v := range vecs {
					out[lo+j] = documentRecord(st, lo+j, v)
				}
				select {
				case done <- hi - lo:
				case <-ctx.Done():
					return
				}
			}
		}()
	}
	go func() {
		defer close(next)
		for b := range batches {
			select {
			case next <- b:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() { wg.Wait(); close(done) }()
	var finished int64
	for k := range done {
		finished += int64(k)
		if bar != nil {
			bar.Update(finished, finished)
		}
	}
	select {
	case err := <-errs:
		if bar != nil {
			bar.Break()
		}
		return nil, err
	default:
	}
	if err := ctx.Err(); err != nil || finished != int64(n) {
		if bar != nil {
			bar.Break()
		}
		return nil, fmt.Errorf("encode documents: stopped after %d of %d: %v", finished, n, err)
	}
	if bar != nil {
		bar.Finish()
	}
	return out, nil
}

// EncoderVectorsCurrent reports whether the encoder's vectors in the state were made from this
// state by this model version; when not, the reason.
func EncoderVectorsCurrent(st *state.State, version string) (bool, string) {
	return vectorsCurrent(st, filepath.Join(st.Dir, EncoderVectorDir), encoderSource(st, version), encoderDocuments(st))
}

// BuildEncoderVectors embeds the corpus with the trained encoder into the embedded store in
// STATE/vectors-encoder.
func BuildEncoderVectors(ctx context.Context, st *state.State, e BatchEmbedder, version string, w io.Writer) error {
	start := time.Now()
	records, err := encoderRecords(ctx, st, e, w)
	if err != nil {
		return err
	}
	encoded := time.Since(start)
	if err := writeStore(ctx, filepath.Join(st.Dir, EncoderVectorDir), e.Dim(), encoderSource(st, version), records, w); err != nil {
		return fmt.Errorf("build encoder vectors: %w", err)
	}
	if w != nil {
		fmt.Fprintf(w, "encoded %d documents in %d dimensions (encoder %s, graph %s)\n", len(records), e.Dim(),
			encoded.Round(100*time.Millisecond), (time.Since(start) - encoded).Round(100*time.Millisecond))
	}
	return nil
}

// OpenEncoderDense opens the encoder's vectors in the store spec names (see OpenDense). The
// embedded store must have been built (BuildEncoderVectors); a Milvus collection is filled by
// encoding the corpus when it is not complete.
func OpenEncoderDense(ctx context.Context, st *state.State, e BatchEmbedder, version, spec string, w io.Writer) (*Dense, error) {
	if spec == "" || spec == "embedded" {
		if ok, why := EncoderVectorsCurrent(st, version); !ok {
			return nil, fmt.Errorf("%w for the encoder in %s (%s); run lawbot train --only encoder", ErrNoVectors, st.Dir, why)
		}
	}
	store, backend, err := openStore(ctx, filepath.Join(st.Dir, EncoderVectorDir), encoderSource(st, version), e.Dim(), encoderDocuments(st), spec, w,
		func() ([]search.Record, error) { return encoderRecords(ctx, st, e, w) })
	if err != nil {
		return nil, err
	}
	return &Dense{Embedder: e, Store: store, Backend: backend + " (encoder)", Statutes: true}, nil
}
