//go:build tensorflow

package main

import (
	"context"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/index"
	"github.com/lawbot-kr/lawbot/models"
	"github.com/lawbot-kr/lawbot/search"
	"github.com/lawbot-kr/lawbot/service"
	"github.com/lawbot-kr/lawbot/state"
)

// TestTrainedModelsServe trains both models for a few steps with the real training script on
// the fixture corpus, then serves them through the residency manager exactly as lawbot serve
// does: Go must give the numbers Python computed for the same ids (golden.json), the encoder's
// vectors must be built and searched, and the tagger must reach the ranking.
func TestTrainedModelsServe(t *testing.T) {
	stateDir, _ := trainTinyTFModels(t)

	ctx := context.Background()
	tm, err := service.LoadModels(ctx, stateDir, service.ModelConfig{Embedder: "encoder", Tagger: "on"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tm.Close()
	// The encoder resident, the tagger on demand (loaded once at start to check it), as the
	// policy places them.
	for _, s := range tm.Manager.Status() {
		if (s.Name == "encoder" || s.Name == "tagger") && (!s.Loaded || s.Resident != (s.Name == "encoder") || s.Bytes <= 0 || s.Loads != 1) {
			t.Errorf("%s: %+v, want loaded once, resident %v, with its size", s.Name, s, s.Name == "encoder")
		}
	}
	acquire := func(name string) gpu.Model {
		m, release, err := tm.Manager.Acquire(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(release)
		return m
	}

	type golden struct {
		Inputs  [][]int32   `json:"inputs"`
		Outputs [][]float32 `json:"outputs"`
	}
	read := func(name string) golden {
		data, err := os.ReadFile(filepath.Join(models.SavedModelDir(stateDir, name), "golden.json"))
		if err != nil {
			t.Fatal(err)
		}
		var g golden
		if err := json.Unmarshal(data, &g); err != nil || len(g.Inputs) == 0 || len(g.Inputs) != len(g.Outputs) {
			t.Fatalf("%s golden.json: %v (%d inputs)", name, err, len(g.Inputs))
		}
		return g
	}
	compare := func(name string, got, want [][]float32) {
		worst := 0.0
		for i := range want {
			if len(got[i]) != len(want[i]) {
				t.Fatalf("%s row %d: %d values, Python %d", name, i, len(got[i]), len(want[i]))
			}
			for j := range want[i] {
				worst = math.Max(worst, math.Abs(float64(got[i][j]-want[i][j])))
			}
		}
		if worst > 1e-5 {
			t.Errorf("%s: Go and Python differ by up to %g", name, worst)
		}
		t.Logf("%s: max |Go − Python| = %g over %d rows", name, worst, len(want))
	}
	g := read("encoder")
	got, err := acquire("encoder").(*models.TFEncoder).EmbedIDs(g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	compare("encoder", got, g.Outputs)
	g = read("tagger")
	got, err = acquire("tagger").(*models.TFTagger).TagIDs(g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	compare("tagger", got, g.Outputs)

	// Into the retriever: encoder vectors built and searched; tagger scores in the ranking.
	st, err := state.Load(stateDir)
	if err != nil {
		t.Fatal(err)
	}
	ix, err := index.LoadLexical(st)
	if err != nil {
		t.Fatal(err)
	}
	p := advice.NewPipeline(advice.NewRetriever(st, ix, search.DefaultAnalyzer()), nil)
	r := p.Retriever
	if err := service.UseModels(ctx, p, tm, "embedded", os.Stderr, os.Stderr); err != nil {
		t.Fatal(err)
	}
	if r.Dense == nil || r.Dense.Embedder.Dim() != 16 || !r.HasTagger() {
		t.Fatalf("dense %+v, tagger %v", r.Dense, r.HasTagger())
	}
	if n, _ := r.Dense.Store.Count(ctx); n != len(st.Precedents)+len(st.QA)+len(st.Statutes) {
		t.Errorf("encoder store holds %d records", n)
	}
	p.Params.DensePrecedents, p.Params.Tagger = 1, 100
	res, err := p.Advise(context.Background(), "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.", nil)
	if err != nil {
		t.Fatal(err)
	}
	precs, statutes := res.Precedents, res.Statutes
	if len(precs) == 0 || len(statutes) == 0 {
		t.Fatalf("%d precedents, %d statutes", len(precs), len(statutes))
	}
	model := false
	for _, reason := range statutes[0].Reasons {
		model = model || reason.Kind == "model"
	}
	if !model {
		t.Errorf("with a heavy tagger weight the first article has no model reason: %+v", statutes[0].Reasons)
	}
}
