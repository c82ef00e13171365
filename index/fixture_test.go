package index

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/internal/testcorpus"
	"github.com/lawbot-kr/lawbot/state"
)

// withVectors ingests the fixture corpus into a fresh state directory and builds its indexes
// and the LSA's vectors, checking on the way that nothing is current before it is built.
func withVectors(t *testing.T) (*state.State, *Lexical, string) {
	t.Helper()
	stateDir := t.TempDir()
	st := testcorpus.Ingest(t, testcorpus.CopyCorpus(t), stateDir)
	ix, err := BuildLexical(context.Background(), st, nil)
	if err != nil {
		t.Fatal(err)
	}
	if ok, why := VectorsCurrent(st); ok || why == "" {
		t.Fatalf("VectorsCurrent before building: %v %q", ok, why)
	}
	if _, err := OpenDense(context.Background(), st, ix, "embedded", nil); !errors.Is(err, ErrNoVectors) {
		t.Fatalf("OpenDense before building: %v, want ErrNoVectors", err)
	}
	var progress strings.Builder
	if err := BuildVectors(context.Background(), st, ix, &progress); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(progress.String(), "vectors") {
		t.Errorf("no progress: %q", progress.String())
	}
	if ok, why := VectorsCurrent(st); !ok {
		t.Fatalf("VectorsCurrent after building: %s", why)
	}
	return st, ix, stateDir
}
