// Command lawbot is LawBot's one binary: ingest the corpus, parse citations, look up statutes and
// precedents, and (as later issues land) serve, evaluate, train and benchmark.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
)

// command is one subcommand; run gets the arguments after the subcommand name.
type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{
	"version":      {"print build information (--json)", runVersion},
	"ingest":       {"parse the corpus into the state directory", runIngest},
	"import":       {"convert legalize-kr / precedent-kr markdown into corpus JSONL", runImport},
	"cite":         {"parse statute citations (--jsonl: {\"raw\":...} lines on stdin)", runCite},
	"statute":      {`print one article, e.g. lawbot statute "민법 제618조"`, runStatute},
	"precedent":    {"print one precedent, e.g. lawbot precedent 2016다235411", runPrecedent},
	"eval":         {"run a dev set: --task holding|question|filter", runEval},
	"update":       {"the weekly update of a state root: fetch, ingest, train, evaluate, gate, publish (--step one)", runUpdate},
	"rollback":     {"point a state root's current back at the version published before it", runRollback},
	"train":        {"train the models LawBot learns from the corpus (the legal-question filter)", runTrain},
	"serve":        {"serve the GraphQL API, GraphiQL, /healthz, /readyz and /metrics (--addr HOST:PORT; --models URL,… calls model servers)", runServe},
	"model-server": {"host the TensorFlow models over the OpenAI-compatible API (/v1/completions, /v1/embeddings, …) for lawbot serve --models", runModelServer},
	"bench":        {"load-test a local server: lawbot bench advice --addr URL --n N --c C", runBench},
	"models":       {"list the state directory's models: backend, device, residency, size (--json, --budget)", runModels},
}

// errUsage marks an error already explained by a usage message (exit code 2).
var errUsage = errors.New("usage")

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stderr)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "lawbot: unknown command %q\n", args[0])
		usage(stderr)
		return 2
	}
	if err := cmd.run(args[1:], stdout, stderr); err != nil {
		if errors.Is(err, errUsage) || errors.Is(err, flag.ErrHelp) {
			return 2
		}
		fmt.Fprintf(stderr, "lawbot %s: %v\n", args[0], err)
		return 1
	}
	return 0
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: lawbot <command> [flags]\n\ncommands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-10s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nrun \"lawbot <command> -h\" for its flags")
}

// newFlags returns a flag set that reports errors to stderr instead of exiting.
func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("lawbot "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args, turning flag errors into errUsage (the flag package already printed them).
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	return nil
}
