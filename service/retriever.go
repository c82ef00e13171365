package service

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// VectorStoreUsage documents --vector-store for every command that takes it.
const VectorStoreUsage = "dense side of retrieval: embedded (the HNSW store in the state directory), milvus://HOST:PORT, or none"

// LoadRetriever loads a state, its indexes, the analyzer and the vector store, reporting what
// each cost.
func LoadRetriever(ctx context.Context, stateDir, vectorStore string, stderr io.Writer) (*advice.Retriever, error) {
	st, err := state.Load(stateDir)
	if err != nil {
		return nil, err
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		return nil, err
	}
	return NewRetriever(ctx, st, ix, vectorStore, stderr)
}

// NewRetriever wires a loaded state and its indexes with the analyzer and the vector store that
// vectorStore names. A state without vectors (built before they existed) serves lexically when
// the default embedded store was asked for; a store asked for by name must open.
func NewRetriever(ctx context.Context, st *state.State, ix *index.Lexical, vectorStore string, stderr io.Writer) (*advice.Retriever, error) {
	a := search.DefaultAnalyzer()
	fmt.Fprintf(stderr, "loaded %s; dictionary %.1fs, %d MB\n", st.Dir, a.LoadTime.Seconds(), a.LoadBytes>>20)
	r := advice.NewRetriever(st, ix, a)
	if vectorStore == "none" {
		return r, nil
	}
	d, err := index.OpenDense(ctx, st, ix, vectorStore, stderr)
	if errors.Is(err, index.ErrNoVectors) && (vectorStore == "" || vectorStore == "embedded") {
		fmt.Fprintf(stderr, "no dense search: %v\n", err)
		return r, nil
	}
	if err != nil {
		return nil, fmt.Errorf("vector store: %w", err)
	}
	fmt.Fprintf(stderr, "dense search: %s, %d dimensions\n", d.Backend, d.Embedder.Dim())
	r.Dense = d
	return r, nil
}
