// Package testcorpus is the one place tests get the fixture corpus (state/testdata/corpus: real
// lease-related statutes, precedents and Q&A pairs, trimmed) from: its directory, a copy to
// change, its ingest into a state; and a stand-in for the trained encoder. It imports only the
// state package, so every package's tests (index and advice included) can use it;
// internal/fixture builds indexed states on top of it.
package testcorpus

import (
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/lawbot-kr/lawbot/state"
)

// CorpusDir is the state package's corpus of real lease-related records (민법, 주택임대차보호법),
// with one 형사 decision, one malformed line and one duplicate; found from this file so that
// tests in any directory reach it.
func CorpusDir() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "state", "testdata", "corpus")
}

// CopyCorpus copies the fixture corpus into a directory the test may change.
func CopyCorpus(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	entries, err := os.ReadDir(CorpusDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(CorpusDir(), e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, e.Name()), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// Ingest ingests the corpus in data into stateDir and loads the state.
func Ingest(t testing.TB, data, stateDir string) *state.State {
	t.Helper()
	if _, err := state.Ingest(state.IngestOptions{DataDir: data, StateDir: stateDir}); err != nil {
		t.Fatalf("Ingest: %v", err)
	}
	st, err := state.Load(stateDir)
	if err != nil {
		t.Fatalf("state.Load: %v", err)
	}
	return st
}

// HashEmbedder stands in for the trained encoder in tests of the vector plumbing: each text's
// characters hashed into 8 dimensions, L2-normalised.
type HashEmbedder struct{}

// Dim is 8.
func (HashEmbedder) Dim() int { return 8 }

// Embed hashes text's characters into a unit vector.
func (HashEmbedder) Embed(text string) []float32 {
	v := make([]float32, 8)
	for _, r := range text {
		f := fnv.New32a()
		f.Write([]byte(string(r)))
		v[f.Sum32()%8]++
	}
	var s float64
	for _, x := range v {
		s += float64(x * x)
	}
	if s > 0 {
		for i := range v {
			v[i] /= float32(math.Sqrt(s))
		}
	}
	return v
}

// EmbedBatch embeds each text.
func (h HashEmbedder) EmbedBatch(texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		out[i] = h.Embed(t)
	}
	return out, nil
}
