package service

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/fixture"

	"github.com/lawbot-kr/lawbot/models"
)

// fixtureState is a fresh, indexed state of the fixture corpus.
func fixtureState(t *testing.T) string { return fixture.StateDir(t) }

// Open gives a pipeline that answers, over the state's indexes, with no filter when the state
// has none; a damaged filter stops it, and NoFilter opens without looking.
func TestOpen(t *testing.T) {
	dir := fixtureState(t)
	ctx := context.Background()
	svc, err := Open(ctx, Config{StateDir: dir, VectorStore: "none", Models: ModelConfig{Embedder: "auto", Tagger: "auto"}, Warmup: true})
	if err != nil {
		t.Fatal(err)
	}
	if svc.Pipeline.Filter != nil {
		t.Errorf("a filter without a model: %T", svc.Pipeline.Filter)
	}
	res, err := svc.Pipeline.Advise(ctx, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.", nil)
	if err != nil || len(res.Statutes) == 0 {
		t.Fatalf("advice: %v, %d statutes", err, len(res.Statutes))
	}
	if err := svc.Close(); err != nil {
		t.Errorf("close: %v", err)
	}

	path := models.FilterPath(dir)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("not a filter"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, Config{StateDir: dir, VectorStore: "none", Models: ModelConfig{Embedder: "auto", Tagger: "auto"}}); err == nil || !strings.Contains(err.Error(), "legal-question filter") {
		t.Errorf("a damaged filter: %v", err)
	}
	svc, err = Open(ctx, Config{StateDir: dir, VectorStore: "none", Models: ModelConfig{Embedder: "auto", Tagger: "auto"}, NoFilter: true})
	if err != nil {
		t.Fatalf("NoFilter with a damaged filter: %v", err)
	}
	svc.Close()
}

// The generator slot is typed by the answer stage's interface: the managed TensorFlow generator
// fits it (checked here at compile time, so the wiring in Open cannot drift from it).
var _ advice.TextGenerator = (*models.ManagedGenerator)(nil)
