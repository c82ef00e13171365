//go:build tensorflow

package service

import (
	"context"
	"os"
	"strings"
	"testing"

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
	dir := t.TempDir()
	if err := os.MkdirAll(models.Dir(dir), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, models.SavedModelDir(dir, models.GeneratorModelName)); err != nil {
		t.Fatal(err)
	}
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
