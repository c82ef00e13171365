//go:build tensorflow

package update

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/state"
)

// The weekly run trains the TensorFlow encoder and tagger with the real training script, and
// carries them over when their input (the snapshot) did not change: new everyday texts for the
// filter retrain the filter alone.
func TestTFUpdateTrainsTheModels(t *testing.T) {
	ctx := context.Background()
	if os.Getenv("LAWBOT_TRAINING") == "" {
		abs, err := filepath.Abs(filepath.Join("..", "training"))
		if err != nil {
			t.Fatal(err)
		}
		t.Setenv("LAWBOT_TRAINING", abs)
	}
	data, root := weeklyCorpus(t), t.TempDir()
	clk := &clock{time.Date(2026, 11, 29, 3, 0, 0, 0, time.UTC)}
	// The fixture's filter (a dozen everyday texts) swings with one added: this test is about
	// what trains, not about the gate.
	gate := filepath.Join(t.TempDir(), "gate.json")
	os.WriteFile(gate, []byte(`{"metrics": {"question.recall_at_10": {"max_drop": 0.01}}}`), 0o644)
	opt := Options{Root: root, Data: data, Now: clk.now, GateFile: gate, Models: []string{"filter", "encoder", "tagger"}}
	res, err := Run(ctx, opt)
	if err != nil || !res.Published {
		t.Fatalf("first run: %+v, %v", res, err)
	}
	if s := stepSummary(res, "train"); s != "trained filter, encoder, tagger" {
		t.Errorf("first train: %q", s)
	}
	v1, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, res.Version))
	if err != nil {
		t.Fatal(err)
	}
	// has is the checksums of every file of a model, in name order ("" when it has none).
	has := func(v *state.Version, prefix string) string {
		var sums []string
		for name, sum := range v.Models {
			if strings.HasPrefix(name, prefix) {
				sums = append(sums, name+"="+sum)
			}
		}
		slices.Sort(sums)
		return strings.Join(sums, " ")
	}
	if has(v1, "encoder.v") == "" || has(v1, "tagger.v") == "" {
		t.Fatalf("the first version's models: %v", v1.Models)
	}

	// New everyday texts: the corpus changed, the snapshot did not.
	f, err := os.OpenFile(filepath.Join(data, "nonlegal.jsonl"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(`{"text": "주말에 친구들과 한강에서 자전거를 탔어요. 날씨가 좋아서 사람이 많았어요."}` + "\n")
	f.Close()
	clk.t = clk.t.Add(7 * 24 * time.Hour)
	res, err = Run(ctx, opt)
	if err != nil || !res.Published {
		t.Fatalf("second run: %+v, %v", res, err)
	}
	if s := stepSummary(res, "train"); !strings.HasPrefix(s, "trained filter; carried over encoder, tagger") {
		t.Errorf("second train: %q", s)
	}
	v2, err := state.ReadVersion(filepath.Join(root, state.VersionsDir, res.Version))
	if err != nil {
		t.Fatal(err)
	}
	if has(v2, "encoder.v") != has(v1, "encoder.v") || has(v2, "tagger.v") != has(v1, "tagger.v") || v2.Models["filter.v1.bin"] == v1.Models["filter.v1.bin"] {
		t.Errorf("carried models changed or the filter did not: %v → %v", v1.Models, v2.Models)
	}
}
