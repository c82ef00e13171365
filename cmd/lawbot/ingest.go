package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/lawbot-kr/lawbot/law"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

func runIngest(args []string, stdout, stderr io.Writer) error {
	fs := newFlags("ingest", stderr)
	dataFlag := fs.String("data", "", "corpus directory (default $"+law.DataEnv+", else "+law.DefaultDataDir+")")
	stateDir := fs.String("state", state.DefaultDir, "state directory to write")
	strict := fs.Bool("strict", false, "fail on the first malformed line instead of skipping it")
	force := fs.Bool("force", false, "re-read the corpus even when it is unchanged")
	statutes := fs.String("statutes", "", "statute source instead of DATA/statutes.jsonl: a legalize-kr `TARBALL` (every Korean law, e.g. ../shared/data/raw/legalize-kr-7460e2a.tar.gz; default $"+state.StatutesEnv+")")
	statuteKinds := fs.String("statute-kinds", "", "with --statutes: the law files taken, comma-separated (default $"+state.StatuteKindsEnv+", else "+strings.Join(law.DefaultStatuteKinds, ",")+")")
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
	var kinds []string
	if *statuteKinds != "" {
		kinds = strings.Split(*statuteKinds, ",")
	}
	rep, err := state.Ingest(state.IngestOptions{
		DataDir: dataDir, StateDir: *stateDir, Strict: *strict, Force: *force,
		Log: stderr, Progress: stderr, Statutes: *statutes, StatuteKinds: kinds,
	})
	if err != nil {
		return err
	}
	if rep.UpToDate {
		fmt.Fprintln(stdout, "corpus unchanged; state is up to date")
	} else {
		rep.Print(stdout, dataDir)
	}
	_, _, err = service.EnsureIndexes(context.Background(), *stateDir, *force || !rep.UpToDate, stdout, stderr)
	return err
}
