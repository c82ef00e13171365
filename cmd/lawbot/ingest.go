package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/state"
)

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	dataFlag := fs.String("data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	stateDir := fs.String("state", state.DefaultDir, "state directory to write")
	strict := fs.Bool("strict", false, "fail on the first malformed line instead of skipping it")
	force := fs.Bool("force", false, "re-read the corpus even when it is unchanged")
	fromMarkdown := fs.String("from-markdown", "", "build the corpus from a legalize-kr / precedent-kr checkout in `DIR` (written to STATE/imported) and ingest that")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "lawbot ingest: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return errUsage
	}
	var dataDir string
	if *fromMarkdown != "" {
		dataDir = filepath.Join(*stateDir, "imported")
		if err := importMarkdown(*fromMarkdown, dataDir, *dataFlag, "", stdout, stderr); err != nil {
			return err
		}
	} else {
		var err error
		if dataDir, err = law.ResolveDataDir(*dataFlag); err != nil {
			return err
		}
	}
	rep, err := state.Ingest(state.IngestOptions{
		DataDir: dataDir, StateDir: *stateDir, Strict: *strict, Force: *force,
		Log: stderr, Progress: stderr,
	})
	if err != nil {
		return err
	}
	if rep.UpToDate {
		fmt.Fprintln(stdout, "corpus unchanged; state is up to date")
	} else {
		printIngestReport(stdout, dataDir, rep)
	}
	_, _, err = ensureIndexes(*stateDir, *force || !rep.UpToDate, stdout, stderr)
	return err
}

// ensureIndexes builds the lexical indexes when the corpus changed, when they are missing, or
// when they were built from another snapshot; an up-to-date state with fresh indexes costs only
// their check. It returns the loaded state and indexes, so callers need not load them again.
func ensureIndexes(stateDir string, rebuild bool, stdout, stderr io.Writer) (*state.State, *index.Lexical, error) {
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
		if ix, err = index.BuildLexical(context.Background(), st, stderr); err != nil {
			return nil, nil, fmt.Errorf("build indexes: %w", err)
		}
		fmt.Fprintf(stdout, "indexed %d statutes, %d precedents, %d Q&A in %s (dictionary loaded in %s)\n",
			len(st.Statutes), len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond), a.LoadTime.Round(100*time.Millisecond))
	}
	if ok, why := index.VectorsCurrent(st); !ok || rebuild {
		if !ok {
			fmt.Fprintf(stdout, "building the vectors: %s\n", why)
		}
		start := time.Now()
		if err := index.BuildVectors(context.Background(), st, ix, stderr); err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(stdout, "embedded %d precedents and %d Q&A pairs in %s\n", len(st.Precedents), len(st.QA), time.Since(start).Round(100*time.Millisecond))
	}
	return st, ix, nil
}

func printIngestReport(w io.Writer, dataDir string, rep *state.IngestReport) {
	fmt.Fprintf(w, "ingested %s (%s)\n", dataDir, rep.Reason)
	for _, k := range []struct {
		name  string
		total int
		c     state.Changes
	}{
		{"statutes", rep.Snapshot.Statutes, rep.Statutes},
		{"precedents", rep.Snapshot.Precedents, rep.Precedents},
		{"qa", rep.Snapshot.QA, rep.QA},
	} {
		fmt.Fprintf(w, "  %-10s %6d  (%d added, %d updated, %d removed, %d unchanged)\n",
			k.name, k.total, k.c.Added, k.c.Updated, k.c.Removed, k.c.Unchanged)
	}
	if rep.BadLines > 0 {
		fmt.Fprintf(w, "  skipped %d malformed lines (listed on stderr)\n", rep.BadLines)
	}
	if rep.Duplicates > 0 {
		fmt.Fprintf(w, "  skipped %d records whose id came earlier (the first is kept)\n", rep.Duplicates)
	}
	if rep.PreviousUnusable != nil {
		fmt.Fprintln(w, "  the previous state was unreadable, so every record counts as added")
	}
	if len(rep.RemovedTemps) > 0 {
		fmt.Fprintf(w, "  removed %d temporary files of an interrupted ingest\n", len(rep.RemovedTemps))
	}
	fmt.Fprintf(w, "wrote %s (%.1f MB) in %s\n", rep.Snapshot.File, float64(rep.Snapshot.Size)/(1<<20),
		rep.Elapsed.Round(10*time.Millisecond))
}
