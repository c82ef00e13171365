package service

import (
	"context"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/advice"
	"github.com/lawbot-kr/lawbot/internal/fixture"
	"github.com/lawbot-kr/lawbot/models"
)

// TestExternalEngineLlamaServer: --generator openai://HOST:PORT/MODEL against a real llama.cpp
// server (llama-server, .ci/llama-server) serving the PyPI Gemma 3 270M GGUF: the same client
// the model servers get streams a completion in pieces, counts tokens with the engine's own
// /tokenize, and writes the deposit question's answer through the pipeline (generated, or the
// extractive one with a known reason; never a wrong citation shown as checked). Skipped without
// LAWBOT_LLAMA_ADDR unless LAWBOT_REQUIRE_LLAMA is set (CI).
func TestExternalEngineLlamaServer(t *testing.T) {
	addr, model := os.Getenv("LAWBOT_LLAMA_ADDR"), os.Getenv("LAWBOT_LLAMA_MODEL")
	if addr == "" {
		if os.Getenv("LAWBOT_REQUIRE_LLAMA") != "" {
			t.Fatal("LAWBOT_LLAMA_ADDR not set: .ci/llama-server start DIR prints it")
		}
		t.Skip("LAWBOT_LLAMA_ADDR not set (.ci/llama-server start DIR)")
	}
	ctx := context.Background()
	m, err := LoadModels(ctx, t.TempDir(), ModelConfig{Embedder: "lsa", Tagger: "off", Generator: "openai://" + addr + "/" + model,
		Remote: RemoteConfig{Wait: time.Minute}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	g := m.TextGenerator()
	if g == nil || (model != "" && g.Name() != model) {
		t.Fatalf("generator %v, want %q", g, model)
	}
	prompt := "질문: 전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요.\n\n답변:\n"
	if n := g.CountTokens(prompt); n < 10 || n >= len([]rune(prompt)) {
		t.Errorf("llama.cpp counts %d tokens for %d characters", n, len([]rune(prompt)))
	}
	var pieces []string
	st, err := g.Generate(ctx, prompt, models.GenerateOptions{MaxTokens: 16}, func(p string) error { pieces = append(pieces, p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if len(pieces) < 2 || strings.TrimSpace(strings.Join(pieces, "")) == "" || st.Tokens == 0 || st.Tokens > 16 {
		t.Errorf("pieces %q, stats %+v", pieces, st)
	}
	t.Logf("llama.cpp: %d pieces %q, %d prompt tokens, first piece after %s, %.1f tokens/s", len(pieces), strings.Join(pieces, ""),
		st.PromptTokens, st.FirstToken.Round(time.Millisecond), st.TokensPerSecond())

	// The pipeline with it writes the answer.
	st2, ix := fixture.Shared(t)
	r, err := NewRetriever(ctx, st2, ix, "none", io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	p := advice.NewPipeline(r, nil)
	p.Generator = g
	p.Params.GenMaxTokens = 48
	res, err := p.Advise(ctx, "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?", nil)
	if err != nil {
		t.Fatal(err)
	}
	a := res.Answer
	switch {
	case a.Generator == g.Name() && a.Fallback == "":
	case a.Generator == "extractive" && a.Fallback != "":
	default:
		t.Errorf("answer by %q, fallback %q", a.Generator, a.Fallback)
	}
	for _, c := range a.Citations {
		if c.Resolved && !c.InEvidence {
			t.Errorf("citation %s shown as checked, not in the evidence", c.ID)
		}
	}
	t.Logf("answer by %s (fallback %q): %.120s", a.Generator, a.Fallback, a.Text)
}
