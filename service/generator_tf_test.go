//go:build tensorflow

package service

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/models"
)

// TestTFGeneratorUnderManager: a state with the converted generator (LAWBOT_GENERATOR_DIR,
// linked in as STATE/models/generator.v1) loads it resident, and it generates through the
// manager.
func TestTFGeneratorUnderManager(t *testing.T) {
	src := os.Getenv("LAWBOT_GENERATOR_DIR")
	if src == "" {
		t.Skip("LAWBOT_GENERATOR_DIR not set (python training/gemma_convert.py --out D; then D/generator)")
	}
	dir := withGeneratorModel(t, t.TempDir(), src)
	ctx := context.Background()
	m, err := LoadModels(ctx, dir, ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if m.Generator == nil || !strings.HasPrefix(m.Generator.Name(), "gemma3-270m-tf@") {
		t.Fatalf("generator %v", m.Generator)
	}
	for _, s := range m.Manager.Status() {
		if s.Name == models.GeneratorModelName && (!s.Resident || !s.Loaded || s.Backend != "tensorflow" || s.Bytes < 100<<20) {
			t.Errorf("generator status %+v, want resident and loaded on TensorFlow", s)
		}
	}
	var out strings.Builder
	st, err := m.Generator.Generate(ctx, "The capital of France is", models.GenerateOptions{MaxTokens: 4}, func(p string) error {
		out.WriteString(p)
		return nil
	})
	if err != nil || st.Tokens != 4 || out.Len() == 0 {
		t.Errorf("generate: %q, %+v, %v", out.String(), st, err)
	}
	r, err := ReportModels(dir, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Models) != 1 || r.Models[0].Name != models.GeneratorModelName || !r.Models[0].Resident || !r.Models[0].Available ||
		r.Models[0].Bytes < 100<<20 {
		t.Errorf("report %+v", r.Models)
	}
}

// TestTFGeneratedAnswer: the deposit question through the whole pipeline with the real
// generator (serve --generator tf) on the fixture state. What the 270M model writes is its own,
// so the test holds what must be true either way: a generated answer streamed in many pieces
// that add up to it, names its model, and reports its speed; or the extractive answer with a
// known reason, after ANSWER_RESET when generated text had been shown. No citation is ever shown
// as checked unless it is in the corpus and the evidence.
func TestTFGeneratedAnswer(t *testing.T) {
	src := os.Getenv("LAWBOT_GENERATOR_DIR")
	if src == "" {
		t.Skip("LAWBOT_GENERATOR_DIR not set (python training/gemma_convert.py --out D; then D/generator)")
	}
	dir := withGeneratorModel(t, fixture.StateDir(t), src)
	ctx := context.Background()
	svc, err := Open(ctx, Config{StateDir: dir, VectorStore: "none", NoFilter: true,
		Models: ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "tf"}})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	if svc.Pipeline.Generator == nil {
		t.Fatal("--generator tf: no generator in the pipeline")
	}
	var deltas []string
	resets := 0
	var text strings.Builder
	res, err := svc.Pipeline.Advise(ctx, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?", func(e advice.Event) {
		switch e.Stage {
		case advice.StageAnswerDelta:
			deltas = append(deltas, e.Delta)
			text.WriteString(e.Delta)
		case advice.StageAnswerReset:
			resets++
			text.Reset()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answer
	t.Logf("generator %s, fallback %q, %d deltas, %d resets: %s", a.Generator, a.Fallback, len(deltas), resets, a.Text)
	if a.Fallback == "" {
		if !strings.HasPrefix(a.Generator, "gemma3-270m-tf@") || len(deltas) < 5 || a.Generation == nil || a.Generation.Tokens < 5 {
			t.Errorf("a generated answer: generator %q, %d deltas, stats %+v", a.Generator, len(deltas), a.Generation)
		}
		if strings.TrimSpace(text.String()) != a.Text {
			t.Errorf("the deltas add up to %q, the answer is %q", text.String(), a.Text)
		}
	} else {
		known := map[string]bool{advice.FallbackEcho: true, advice.FallbackRepetition: true, advice.FallbackTooShort: true, advice.FallbackSlow: true}
		if a.Generator != "extractive" || !known[a.Fallback] || text.String() != a.Text || resets > 1 {
			t.Errorf("fallback: generator %q, reason %q, %d resets, stream %q vs answer %q", a.Generator, a.Fallback, resets, text.String(), a.Text)
		}
	}
	for _, c := range a.Citations {
		if c.Resolved && (c.Statute == nil || (a.Evidence != nil && !a.Evidence[c.ID])) {
			t.Errorf("citation %s shown as checked: in corpus %v, in evidence %v", c.ID, c.Statute != nil, a.Evidence[c.ID])
		}
	}
}

// withGeneratorModel links the converted generator at src into dir's models as
// STATE/models/generator.v1 and returns dir.
func withGeneratorModel(t *testing.T, dir, src string) string {
	t.Helper()
	if err := os.MkdirAll(models.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, models.SavedModelDir(dir, models.GeneratorModelName)); err != nil {
		t.Fatal(err)
	}
	return dir
}
