package service

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

// EnsureIndexes builds the lexical indexes when rebuild is set (the corpus changed), when they
// are missing, or when they were built from another snapshot, and then the vectors when they are
// stale; an up-to-date state with fresh indexes costs only their check. What it builds is
// reported on stdout, the progress on stderr. It returns the loaded state and indexes, so that
// callers need not load them again.
func EnsureIndexes(ctx context.Context, stateDir string, rebuild bool, stdout, stderr io.Writer) (*state.State, *index.Lexical, error) {
	st, err := state.Load(stateDir)
	if err != nil {
		return nil, nil, err
	}
	var ix *index.Lexical
	if !rebuild {
		if ix, err = index.LoadLexical(st); err != nil {
			fmt.Fprintf(stdout, "rebuilding the search indexes: %v\n", err)
			ix = nil
		}
	}
	if ix == nil {
		start := time.Now()
		a := search.DefaultAnalyzer()
		if ix, err = index.BuildLexical(ctx, st, stderr); err != nil {
			return nil, nil, fmt.Errorf("build indexes: %w", err)
		}
		fmt.Fprintf(stdout, "indexed %d statutes, %d precedents, %d Q&A in %s (dictionary loaded in %s)\n",
			len(st.Statutes), len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond), a.LoadTime.Round(100*time.Millisecond))
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, err
	}
	if ok, why := index.VectorsCurrent(st); !ok || rebuild {
		if !ok {
			fmt.Fprintf(stdout, "building the vectors: %s\n", why)
		}
		start := time.Now()
		if err := index.BuildVectors(ctx, st, ix, stderr); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "embedded %d precedents and %d Q&A pairs in %s\n", len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond))
	}
	return st, ix, nil
}
