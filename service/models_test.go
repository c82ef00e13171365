package service

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/state"
)

// With the LSA serving the dense side (no trained encoder), the LSA is under the residency
// manager as the policy places it: resident, loaded, and the dense side's embedder acquires it
// from the manager for each query; the answer is the one the LSA gives when used directly.
func TestOpenModelsUnderManager(t *testing.T) {
	dir := fixtureState(t)
	ctx := context.Background()
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.BuildVectors(ctx, st, ix, nil); err != nil {
		t.Fatal(err)
	}
	question := "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요."
	direct, err := LoadRetriever(ctx, dir, "embedded", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Dense.Close()
	if _, ok := direct.Dense.Embedder.(*models.LSA); !ok {
		t.Fatalf("the dense side embeds with a %T, want the LSA", direct.Dense.Embedder)
	}
	want, err := advice.NewPipeline(direct, nil).Advise(ctx, question, nil)
	if err != nil {
		t.Fatal(err)
	}

	svc, err := Open(ctx, Config{StateDir: dir, VectorStore: "embedded", Models: ModelConfig{Embedder: "auto", Tagger: "auto"}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if _, ok := svc.Pipeline.Retriever.Dense.Embedder.(*models.ManagedLSA); !ok {
		t.Fatalf("the dense side embeds with a %T, want the LSA through the manager", svc.Pipeline.Retriever.Dense.Embedder)
	}
	lsa := func() gpu.ModelStatus {
		for _, s := range svc.Models.Manager.Status() {
			if s.Name == models.LSAModelName {
				return s
			}
		}
		t.Fatalf("the LSA is not under the manager: %+v", svc.Models.Manager.Status())
		return gpu.ModelStatus{}
	}
	if s := lsa(); !s.Loaded || !s.Resident || s.Loads != 1 || s.Bytes <= 0 {
		t.Errorf("LSA %+v, want resident, loaded once, with its size", s)
	}
	before := lsa().LastUsed
	got, err := svc.Pipeline.Advise(ctx, question, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Precedents) == 0 || len(got.Precedents) != len(want.Precedents) {
		t.Fatalf("%d precedents through the manager, %d directly", len(got.Precedents), len(want.Precedents))
	}
	for i := range want.Precedents {
		if g, w := got.Precedents[i], want.Precedents[i]; g.N != w.N || g.Score != w.Score {
			t.Errorf("precedent %d: %d (%g) through the manager, %d (%g) directly", i, g.N, g.Score, w.N, w.Score)
		}
	}
	if s := lsa(); s.Loads != 1 || s.InUse != 0 || !s.LastUsed.After(before) {
		t.Errorf("after a question: %+v, want used, loaded once, released", s)
	}
	if svc.Models.Encoder != nil || svc.Models.Tagger != nil {
		t.Errorf("encoder %v, tagger %v without TensorFlow models", svc.Models.Encoder, svc.Models.Tagger)
	}
}

// The offline report follows the policy: the LSA is resident only while it stands in for an
// encoder that cannot serve.
func TestStateModelsPolicy(t *testing.T) {
	dir := fixtureState(t)
	st, err := state.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		t.Fatal(err)
	}
	if err := index.BuildVectors(context.Background(), st, ix, nil); err != nil {
		t.Fatal(err)
	}
	found, err := StateModels(dir, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].Name != models.LSAModelName || !found[0].Resident || found[0].Path != models.LSAPath(dir) {
		t.Errorf("without an encoder: %+v, want the LSA alone, resident", found)
	}
}

// The generator in the offline report: a SavedModel at STATE/models/generator.v1 is listed on
// TensorFlow and resident; --generator tf without a generator that can serve stops the load, as
// does tf:NAME without STATE/models/NAME.v1; a wrong setting is refused.
func TestStateModelsGenerator(t *testing.T) {
	// Linked into the state, as CI links its cached conversion: the size is the files'.
	dir, elsewhere := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(elsewhere, "saved_model.pb"), []byte("pb"), 0o644); err != nil {
		t.Fatal(err)
	}
	gen := models.SavedModelDir(dir, models.GeneratorModelName)
	if err := os.MkdirAll(filepath.Dir(gen), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(elsewhere, gen); err != nil {
		t.Fatal(err)
	}
	r, err := ReportModels(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) != 1 {
		t.Fatalf("models %+v, want the generator alone", r.Models)
	}
	if row := r.Models[0]; row.Name != models.GeneratorModelName || row.Backend != gpu.BackendTensorFlow || !row.Resident ||
		row.Bytes != 2 || row.Path != gen || row.Available != TensorFlowAvailable() {
		t.Errorf("generator row %+v", row)
	}

	saved := TensorFlowAvailable
	TensorFlowAvailable = func() bool { return false }
	defer func() { TensorFlowAvailable = saved }()
	if _, err := LoadModels(context.Background(), dir, ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf"}, nil); err == nil ||
		!strings.Contains(err.Error(), "--generator tf") {
		t.Errorf("--generator tf without TensorFlow: %v", err)
	}
	if _, err := LoadModels(context.Background(), dir, ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf:tuned"}, nil); err == nil ||
		!strings.Contains(err.Error(), "tuned.v1") {
		t.Errorf("--generator tf:tuned without STATE/models/tuned.v1: %v", err)
	}
	m, err := LoadModels(context.Background(), dir, ModelConfig{Embedder: "lsa", Tagger: "off"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if m.Generator != nil {
		t.Error("a generator without TensorFlow")
	}
	m.Close()
	for _, g := range []string{"", "extractive", "tf", "tf:generator-ft"} {
		if err := CheckModelConfig(ModelConfig{Embedder: "auto", Tagger: "auto", Generator: g}); err != nil {
			t.Errorf("generator %q: %v", g, err)
		}
	}
	for _, g := range []string{"gpt", "tf:", "tf:../x", "on"} {
		if err := CheckModelConfig(ModelConfig{Embedder: "auto", Tagger: "auto", Generator: g}); err == nil {
			t.Errorf("generator %q accepted", g)
		}
	}
}
