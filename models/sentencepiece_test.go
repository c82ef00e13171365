package models

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

// generatorGolden is testdata/generator_golden.json: what training/gemma_convert.py's Python
// made from the real model (tokenizer ids, and greedy continuations of a few prompts).
type generatorGolden struct {
	BOS       int32 `json:"bos"`
	EOS       int32 `json:"eos"`
	Tokenizer []struct {
		Text string  `json:"text"`
		IDs  []int32 `json:"ids"`
	} `json:"tokenizer"`
	Cases []struct {
		Prompt string  `json:"prompt"`
		IDs    []int32 `json:"ids"` // with the leading BOS
		Greedy []int32 `json:"greedy"`
	} `json:"cases"`
}

func readGeneratorGolden(t *testing.T) generatorGolden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "generator_golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g generatorGolden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatalf("generator_golden.json: %v", err)
	}
	return g
}

// generatorDir is the converted generator (training/gemma_convert.py --out D writes D/generator),
// named by LAWBOT_GENERATOR_DIR; the tests that need it skip without it.
func generatorDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("LAWBOT_GENERATOR_DIR")
	if dir == "" {
		t.Skip("LAWBOT_GENERATOR_DIR not set (python training/gemma_convert.py --out D; then D/generator)")
	}
	return dir
}

func TestSentencePieceMatchesPython(t *testing.T) {
	g := readGeneratorGolden(t)
	sp, err := LoadSentencePiece(filepath.Join(generatorDir(t), GeneratorTokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	if sp.VocabSize() != 262144 || sp.BOS() != g.BOS || sp.EOS() != g.EOS {
		t.Fatalf("vocab %d, bos %d, eos %d; want 262144, %d, %d", sp.VocabSize(), sp.BOS(), sp.EOS(), g.BOS, g.EOS)
	}
	if len(g.Tokenizer) == 0 {
		t.Fatal("generator_golden.json has no tokenizer cases")
	}
	for _, c := range g.Tokenizer {
		if got := sp.Encode(c.Text); !slices.Equal(got, c.IDs) {
			t.Errorf("Encode(%q)\n got %v\nwant %v (Python sentencepiece)", c.Text, got, c.IDs)
		}
		if got := sp.Decode(c.IDs); got != c.Text {
			t.Errorf("Decode(Encode(%q)) = %q", c.Text, got)
		}
	}
	for _, c := range g.Cases {
		if got := append([]int32{sp.BOS()}, sp.Encode(c.Prompt)...); !slices.Equal(got, c.IDs) {
			t.Errorf("prompt %q\n got %v\nwant %v", c.Prompt, got, c.IDs)
		}
	}
	// Out-of-range and control ids decode to nothing rather than panicking.
	if got := sp.Decode([]int32{-1, sp.BOS(), 1 << 30, sp.EOS()}); got != "" {
		t.Errorf("Decode of control and out-of-range ids = %q", got)
	}
}

// TestSentencePiecePieceBytes checks the bytes streaming joins: the pieces of a text, one id at a
// time, are the text's bytes (Korean through byte fallback too), and the generator's end
// pieces are control pieces.
func TestSentencePiecePieceBytes(t *testing.T) {
	g := readGeneratorGolden(t)
	sp, err := LoadSentencePiece(filepath.Join(generatorDir(t), GeneratorTokenizerFile))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range g.Tokenizer {
		var b []byte
		for _, id := range c.IDs {
			b = append(b, sp.PieceBytes(id)...)
		}
		if string(b) != c.Text {
			t.Errorf("pieces of %q joined = %q", c.Text, b)
		}
	}
	for _, name := range []string{"<eos>", "<end_of_turn>", "<bos>"} {
		id, ok := sp.ControlID(name)
		if !ok {
			t.Errorf("no control piece %s", name)
			continue
		}
		if b := sp.PieceBytes(id); len(b) != 0 {
			t.Errorf("control piece %s has bytes %q", name, b)
		}
	}
	if id, _ := sp.ControlID("<eos>"); id != g.EOS {
		t.Errorf("<eos> is %d, want %d", id, g.EOS)
	}
	if b := sp.PieceBytes(-1); b != nil {
		t.Errorf("PieceBytes(-1) = %q", b)
	}
}
