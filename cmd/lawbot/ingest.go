package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

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
		rep.Print(stdout, dataDir)
	}
	_, _, err = service.EnsureIndexes(context.Background(), *stateDir, *force || !rep.UpToDate, stdout, stderr)
	return err
}
