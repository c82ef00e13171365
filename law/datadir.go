package law

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// DataEnv is the environment variable naming the corpus directory.
const DataEnv = "LAWBOT_DATA"

// DefaultDataDir is used when neither --data nor LAWBOT_DATA is given and it exists.
const DefaultDataDir = "../shared/data"

// ErrNoCorpus means no corpus directory could be found; its message says how to get one.
var ErrNoCorpus = errors.New(`no corpus found: pass --data DIR or set LAWBOT_DATA to a directory holding statutes.jsonl, precedents*.jsonl and qa.jsonl (the project's ../shared/data), or build one from the public legalize-kr and precedent-kr repositories with "lawbot import --from-markdown DIR --out DIR"`)

// ResolveDataDir picks the corpus directory: the flag, else $LAWBOT_DATA, else ../shared/data.
// The chosen directory must hold statutes.jsonl.
func ResolveDataDir(flagValue string) (string, error) {
	dir, from := flagValue, "--data"
	if dir == "" {
		dir, from = os.Getenv(DataEnv), DataEnv
	}
	if dir == "" {
		if _, err := os.Stat(filepath.Join(DefaultDataDir, StatutesFile)); err != nil {
			return "", ErrNoCorpus
		}
		dir, from = DefaultDataDir, "default"
	}
	if _, err := os.Stat(filepath.Join(dir, StatutesFile)); err != nil {
		return "", fmt.Errorf("%s=%s: %w", from, dir, ErrNoCorpus)
	}
	return dir, nil
}
