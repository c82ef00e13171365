package index

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/lawbot-kr/lawbot/internal/atomicfile"
	"github.com/lawbot-kr/lawbot/internal/progress"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

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

// vectorSourceInfo is the content of a store's vectorSourceFile.
type vectorSourceInfo struct {
	Source  string `json:"source"`
	Records int    `json:"records"`
	// Drift counts the documents embedded since the embedding was fitted (incremental builds).
	Drift int `json:"drift,omitempty"`
}

func writeVectorSource(dir, source string, records int) error {
	return writeVectorSourceInfo(dir, vectorSourceInfo{Source: source, Records: records})
}

func writeVectorSourceInfo(dir string, info vectorSourceInfo) error {
	data, err := json.Marshal(info)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(filepath.Join(dir, vectorSourceFile), data)
}

// readVectorSource reads the source file of the store in dir.
func readVectorSource(dir string) (vectorSourceInfo, error) {
	var src vectorSourceInfo
	data, err := os.ReadFile(filepath.Join(dir, vectorSourceFile))
	if err != nil {
		return src, err
	}
	if err := json.Unmarshal(data, &src); err != nil {
		return src, fmt.Errorf("unreadable %s: %w", vectorSourceFile, err)
	}
	return src, nil
}

// carryStore makes dst hold src's store file: hard-linked (every store write replaces the file
// by rename, so the parent's stays intact) or copied where links are refused. dst's source
// file is removed until the update writes its own.
func carryStore(src, dst string) error {
	if err := os.RemoveAll(dst); err != nil {
		return err
	}
	if err := os.MkdirAll(dst, 0o755); err != nil {
		return err
	}
	from, to := filepath.Join(src, search.EmbeddedFile), filepath.Join(dst, search.EmbeddedFile)
	if err := os.Link(from, to); err == nil {
		return nil
	}
	return atomicfile.CopyFile(from, to)
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
		// Sealed and indexed before it serves: Milvus searches unsealed rows by brute force.
		if f, ok := store.(flusher); ok {
			if err := f.Flush(ctx); err != nil {
				store.Close()
				return nil, "", err
			}
		}
	}
	return store, spec, nil
}

// flusher is a store that indexes what it was given only once told to (Milvus).
type flusher interface {
	Flush(ctx context.Context) error
}
