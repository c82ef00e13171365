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
	st, ix, _, err := EnsureIndexesFrom(ctx, stateDir, "", rebuild, stdout, stderr)
	return st, ix, err
}

// IndexReuse says what an index build took from its parent version.
type IndexReuse struct {
	Lexical *index.Reuse       // nil: the lexical indexes were current
	Vectors *index.VectorReuse // nil: the vectors were current
}

// EnsureIndexesFrom is EnsureIndexes that builds incrementally from the state in parentDir
// (the version a weekly update starts from; "" for none): documents unchanged since it are
// copied from its indexes instead of analysed again, and its embedding and vector store are
// updated in place of a refit (index.BuildVectorsFrom). A parent whose indexes do not load is
// ignored: the build is then a full one.
func EnsureIndexesFrom(ctx context.Context, stateDir, parentDir string, rebuild bool, stdout, stderr io.Writer) (*state.State, *index.Lexical, IndexReuse, error) {
	var reuse IndexReuse
	st, err := state.Load(stateDir)
	if err != nil {
		return nil, nil, reuse, err
	}
	var ix *index.Lexical
	if !rebuild {
		if ix, err = index.LoadLexical(st); err != nil {
			fmt.Fprintf(stdout, "rebuilding the search indexes: %v\n", err)
			ix = nil
		}
	}
	vecOK, vecWhy := index.VectorsCurrent(st)
	var parent *index.Parent
	if ix == nil || !vecOK || rebuild {
		parent = loadParent(parentDir, stdout)
	}
	if ix == nil {
		start := time.Now()
		a := search.DefaultAnalyzer()
		var r index.Reuse
		if ix, r, err = index.BuildLexicalFrom(ctx, st, parent, stderr); err != nil {
			return nil, nil, reuse, fmt.Errorf("build indexes: %w", err)
		}
		reuse.Lexical = &r
		how := ""
		if parent != nil {
			how = fmt.Sprintf(" (%d analysed, %d copied from %s)", r.Analysed, r.Copied, parentDir)
		}
		fmt.Fprintf(stdout, "indexed %d statutes, %d precedents, %d Q&A in %s%s (dictionary loaded in %s)\n",
			len(st.Statutes), len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond), how, a.LoadTime.Round(100*time.Millisecond))
	}
	if err := ctx.Err(); err != nil {
		return nil, nil, reuse, err
	}
	if !vecOK || rebuild {
		if !vecOK {
			fmt.Fprintf(stdout, "building the vectors: %s\n", vecWhy)
		}
		start := time.Now()
		r, err := index.BuildVectorsFrom(ctx, st, ix, parent, stderr)
		if err != nil {
			return nil, nil, reuse, err
		}
		reuse.Vectors = &r
		if r.Refit != "" {
			fmt.Fprintf(stdout, "embedded %d precedents and %d Q&A pairs in %s\n", len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond))
			if parent != nil {
				fmt.Fprintf(stdout, "  (fitted again: %s)\n", r.Refit)
			}
		} else {
			fmt.Fprintf(stdout, "updated the vectors in %s: %d embedded, %d removed, %d kept (%d embedded since the fit)\n",
				time.Since(start).Round(100*time.Millisecond), r.Embedded, r.Removed, r.Kept, r.Drift)
		}
	}
	return st, ix, reuse, nil
}

// loadParent loads the state and lexical indexes of parentDir, or says why it cannot and
// returns nil.
func loadParent(parentDir string, stdout io.Writer) *index.Parent {
	if parentDir == "" {
		return nil
	}
	pst, err := state.Load(parentDir)
	if err != nil {
		fmt.Fprintf(stdout, "full build: the parent %s: %v\n", parentDir, err)
		return nil
	}
	pix, err := index.LoadLexical(pst)
	if err != nil {
		fmt.Fprintf(stdout, "full build: the parent's indexes: %v\n", err)
		return nil
	}
	return &index.Parent{State: pst, Lexical: pix}
}
