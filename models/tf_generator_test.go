//go:build tensorflow

package models

// The TensorFlow generator on the real converted model, named by LAWBOT_GENERATOR_DIR (CI
// converts the GGUF once and caches it; without the variable these tests skip):
//
//	LAWBOT_GENERATOR_DIR=D/generator scripts/tf-env go test -tags tensorflow -run TestTFGenerator ./models
//	LAWBOT_GENERATOR_DIR=D/generator scripts/tf-env go test -tags tensorflow -run x -bench TFGenerator ./models

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

var (
	sharedGenOnce sync.Once
	sharedGen     *TFGenerator
	sharedGenErr  error
)

// loadGenerator loads the generator once for all the tests (a second costs seconds and a GB).
func loadGenerator(t testing.TB) *TFGenerator {
	t.Helper()
	dir := os.Getenv("LAWBOT_GENERATOR_DIR")
	if dir == "" {
		t.Skip("LAWBOT_GENERATOR_DIR not set (python training/gemma_convert.py --out D; then D/generator)")
	}
	sharedGenOnce.Do(func() {
		start := time.Now()
		sharedGen, sharedGenErr = LoadTFGenerator(dir, TFOptions{})
		if sharedGenErr == nil {
			t.Logf("generator %s loaded in %v", sharedGen.Name(), time.Since(start).Round(time.Millisecond))
		}
	})
	if sharedGenErr != nil {
		t.Fatal(sharedGenErr)
	}
	return sharedGen
}

// generateTokens generates from prompt on d, returning the tokens, the pieces emitted and the stats.
func generateTokens(t testing.TB, ctx context.Context, d *decoder, ids []int32, opt GenerateOptions) ([]int32, []string, GenerateStats, error) {
	t.Helper()
	var toks []int32
	var pieces []string
	st, err := d.generate(ctx, ids, opt, func(p string) error { pieces = append(pieces, p); return nil },
		func(id int32) { toks = append(toks, id) })
	return toks, pieces, st, err
}

// TestTFGeneratorGolden: Go's greedy tokens equal Python's (the same SavedModel run by
// gemma_convert.py, whose prefill and decode reproduce keras-hub's) token for token.
func TestTFGeneratorGolden(t *testing.T) {
	g := loadGenerator(t)
	golden := readGeneratorGolden(t)
	if len(golden.Cases) == 0 {
		t.Fatal("no golden cases")
	}
	if !strings.HasPrefix(g.Name(), "gemma3-270m-tf@") || g.MaxContext() != 2048 || g.CountTokens("The capital of France is") != 5 {
		t.Errorf("Name() = %q, MaxContext() = %d, CountTokens = %d", g.Name(), g.MaxContext(), g.CountTokens("The capital of France is"))
	}
	if !g.freeable {
		t.Error("graft's Tensor is not the struct tf_generator.go knows: each step's 75 MB cache waits for a garbage collection")
	}
	for _, c := range golden.Cases {
		ids := g.promptIDs(c.Prompt)
		if !slices.Equal(ids, c.IDs) {
			t.Fatalf("prompt %q: ids %v, Python's %v", c.Prompt, ids, c.IDs)
		}
		got, pieces, st, err := generateTokens(t, context.Background(), g.dec, ids, GenerateOptions{MaxTokens: len(c.Greedy)})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, c.Greedy) {
			t.Errorf("%q:\n Go     %v\n Python %v", c.Prompt, got, c.Greedy)
		}
		t.Logf("%q → %q (%s; first token %v, %.1f tokens/s)", c.Prompt, strings.Join(pieces, ""), st.StopReason,
			st.FirstToken.Round(time.Millisecond), st.TokensPerSecond())
	}
}

// TestTFGeneratorStreams: emit sees many pieces, each whole UTF-8, which join into the text of
// the tokens; Generate (the public path) gives the same text.
func TestTFGeneratorStreams(t *testing.T) {
	g := loadGenerator(t)
	prompt := "전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?"
	opt := GenerateOptions{MaxTokens: 24}
	toks, pieces, st, err := generateTokens(t, context.Background(), g.dec, g.promptIDs(prompt), opt)
	if err != nil {
		t.Fatal(err)
	}
	if st.Tokens != len(toks) || st.PromptTokens != len(g.promptIDs(prompt)) || st.FirstToken <= 0 || st.Total < st.FirstToken {
		t.Errorf("stats %+v for %d tokens", st, len(toks))
	}
	if len(pieces) < 8 {
		t.Errorf("%d pieces for %d tokens: not streamed", len(pieces), len(toks))
	}
	for _, p := range pieces {
		if p == "" || !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) {
			t.Errorf("piece %q is not whole UTF-8", p)
		}
	}
	want := g.tok.Decode(toks)
	if got := strings.Join(pieces, ""); got != want {
		t.Errorf("pieces join to %q, the tokens decode to %q", got, want)
	}
	var again strings.Builder
	if _, err := g.Generate(context.Background(), prompt, opt, func(p string) error { again.WriteString(p); return nil }); err != nil {
		t.Fatal(err)
	}
	if again.String() != want {
		t.Errorf("Generate: %q, want %q", again.String(), want)
	}
}

// TestTFGeneratorStopAndLength: a stop string ends the text before it (never emitted);
// MaxTokens ends it with "length"; emit's error ends it with "emit".
func TestTFGeneratorStopAndLength(t *testing.T) {
	g := loadGenerator(t)
	prompt := "The capital of France is"
	var full strings.Builder
	st, err := g.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 16}, func(p string) error { full.WriteString(p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.StopReason != "length" || st.Tokens != 16 {
		t.Errorf("MaxTokens 16: %d tokens, %q", st.Tokens, st.StopReason)
	}
	// A stop string from the middle of that text (its first occurrence there): the output is
	// what comes before it.
	text := full.String()
	k := len(text) / 2
	for k < len(text)-6 && (!utf8.RuneStart(text[k]) || !utf8.ValidString(text[k:k+6]) || strings.Index(text, text[k:k+6]) != k) {
		k++
	}
	if k >= len(text)-6 {
		t.Fatalf("no stop string found in %q", text)
	}
	stop := text[k : k+6]
	var got strings.Builder
	st, err = g.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 16, Stop: []string{"never in it", stop}},
		func(p string) error { got.WriteString(p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	if st.StopReason != "stop" || got.String() != text[:k] {
		t.Errorf("stop %q: %q (%s), want %q", stop, got.String(), st.StopReason, text[:k])
	}
	boom := errors.New("client gone")
	n := 0
	st, err = g.Generate(context.Background(), prompt, GenerateOptions{MaxTokens: 16}, func(string) error {
		if n++; n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || st.StopReason != "emit" || n != 2 {
		t.Errorf("emit error: %v, %q after %d pieces", err, st.StopReason, n)
	}
}

// TestTFGeneratorCancel: a ctx cancelled mid-generation returns at once (the step in flight
// finishes in the background), with StopReason "canceled"; the generator serves the next.
func TestTFGeneratorCancel(t *testing.T) {
	g := loadGenerator(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var canceledAt time.Time
	var mu sync.Mutex
	steps := 0
	g.beforeStep = func() {
		mu.Lock()
		defer mu.Unlock()
		if steps++; steps == 4 {
			canceledAt = time.Now()
			cancel()
		}
	}
	defer func() { g.beforeStep = nil }()
	st, err := g.Generate(ctx, "The capital of France is", GenerateOptions{MaxTokens: 64}, func(string) error { return nil })
	returned := time.Now()
	if !errors.Is(err, context.Canceled) || st.StopReason != "canceled" {
		t.Fatalf("err %v, stop %q", err, st.StopReason)
	}
	mu.Lock()
	lag := returned.Sub(canceledAt)
	mu.Unlock()
	if lag > 100*time.Millisecond {
		t.Errorf("returned %v after the cancel", lag)
	}
	if st.Tokens > 5 {
		t.Errorf("%d tokens after a cancel at step 4", st.Tokens)
	}
	// The slot comes back once the abandoned step is over; the next generation runs.
	g.beforeStep = nil
	deadline := time.Now().Add(5 * time.Second)
	for g.dec.queue.Running() > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if st, err := g.Generate(context.Background(), "The capital of France is", GenerateOptions{MaxTokens: 2}, func(string) error { return nil }); err != nil || st.Tokens != 2 {
		t.Errorf("after a cancel: %+v, %v", st, err)
	}
}

// TestTFGeneratorQueue: with one generation decoding and one waiting, a third request gets
// ErrModelBusy at once; the waiting one whose ctx ends leaves the line; a prompt that fills
// the context is ErrPromptTooLong.
func TestTFGeneratorQueue(t *testing.T) {
	g := loadGenerator(t)
	d := *g.dec
	d.queue = newGenQueue(GeneratorLimits{Parallel: 1, Waiting: 1})
	ids := g.promptIDs("The capital of France is")

	gate := make(chan struct{})
	started := make(chan struct{}, 64)
	g.beforeStep = func() { started <- struct{}{}; <-gate }
	defer func() { g.beforeStep = nil }()
	first := make(chan error, 1)
	go func() {
		_, _, _, err := generateTokens(t, context.Background(), &d, ids, GenerateOptions{MaxTokens: 3})
		first <- err
	}()
	<-started // the first holds the slot, inside a step

	waitCtx, leave := context.WithCancel(context.Background())
	second := make(chan error, 1)
	go func() {
		_, _, st, err := generateTokens(t, waitCtx, &d, ids, GenerateOptions{MaxTokens: 3})
		if st.StopReason != "canceled" {
			err = errors.New("stop reason " + st.StopReason)
		}
		second <- err
	}()
	for d.queue.Waiting() != 1 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	_, _, _, err := generateTokens(t, context.Background(), &d, ids, GenerateOptions{MaxTokens: 3})
	if !errors.Is(err, ErrModelBusy) || time.Since(start) > 50*time.Millisecond {
		t.Errorf("third request: %v after %v, want ErrModelBusy at once", err, time.Since(start))
	}
	leave()
	if err := <-second; !errors.Is(err, context.Canceled) {
		t.Errorf("the waiting request whose ctx ended: %v", err)
	}
	if n := d.queue.Waiting(); n != 0 {
		t.Errorf("%d still waiting", n)
	}
	close(gate)
	if err := <-first; err != nil {
		t.Errorf("the first request: %v", err)
	}

	long := make([]int32, g.MaxContext())
	long[0] = g.bos()
	for i := 1; i < len(long); i++ {
		long[i] = 1000
	}
	if _, _, _, err := generateTokens(t, context.Background(), g.dec, long, GenerateOptions{}); !errors.Is(err, ErrPromptTooLong) {
		t.Errorf("a prompt of %d tokens: %v, want ErrPromptTooLong", len(long), err)
	}
}

// TestTFGeneratorRepetitionPenalty: the statute heading makes greedy decoding repeat itself; a
// penalty changes the output, and sampling with a seed repeats itself.
func TestTFGeneratorRepetitionPenalty(t *testing.T) {
	g := loadGenerator(t)
	ids := g.promptIDs("민법 제618조(임대차의 의의)")
	plain, _, _, err := generateTokens(t, context.Background(), g.dec, ids, GenerateOptions{MaxTokens: 16})
	if err != nil {
		t.Fatal(err)
	}
	penalized, _, _, err := generateTokens(t, context.Background(), g.dec, ids, GenerateOptions{MaxTokens: 16, RepetitionPenalty: 1.5})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(plain, penalized) {
		t.Errorf("repetition penalty 1.5 left the greedy output %v unchanged", plain)
	}
	t.Logf("greedy %q\npenalty 1.5 %q", g.tok.Decode(plain), g.tok.Decode(penalized))
	opt := GenerateOptions{MaxTokens: 8, Temperature: 0.8, TopP: 0.9, Seed: 7}
	a, _, _, err := generateTokens(t, context.Background(), g.dec, ids, opt)
	if err != nil {
		t.Fatal(err)
	}
	b, _, _, err := generateTokens(t, context.Background(), g.dec, ids, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(a, b) {
		t.Errorf("the same seed sampled %v, then %v", a, b)
	}
}

// TestTFGeneratorDamaged: a model.json whose checksum does not match the files fails to load.
func TestTFGeneratorDamaged(t *testing.T) {
	g := loadGenerator(t)
	dir := t.TempDir()
	for _, f := range []string{"saved_model.pb", "variables", GeneratorTokenizerFile, "fingerprint.pb", "assets"} {
		if _, err := os.Stat(filepath.Join(g.Dir(), f)); err == nil {
			if err := os.Symlink(filepath.Join(g.Dir(), f), filepath.Join(dir, f)); err != nil {
				t.Fatal(err)
			}
		}
	}
	b, err := os.ReadFile(filepath.Join(g.Dir(), "model.json"))
	if err != nil {
		t.Fatal(err)
	}
	b = []byte(strings.Replace(string(b), g.info.Checksum, strings.Repeat("0", 64), 1))
	if err := os.WriteFile(filepath.Join(dir, "model.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadTFGenerator(dir, TFOptions{}); err == nil || !strings.Contains(err.Error(), "checksum mismatch") {
		t.Errorf("damaged model: %v", err)
	}
}

// BenchmarkTFGenerator: the time to the first token after a 1,000-token prompt (prefill and
// one pick) and the decode speed over 64 tokens after it.
func BenchmarkTFGenerator(b *testing.B) {
	g := loadGenerator(b)
	text := strings.Repeat("「주택임대차보호법」 제3조의3(임차권등기명령) ① 임대차가 끝난 후 보증금이 반환되지 아니한 경우 임차인은 "+
		"임차주택의 소재지를 관할하는 지방법원에 임차권등기명령을 신청할 수 있다. ", 40)
	ids := g.promptIDs(text)[:1000]
	d := *g.dec
	d.ends = nil // decode all 64 tokens
	var ttft, total time.Duration
	tokens := 0
	for b.Loop() {
		_, _, st, err := generateTokens(b, context.Background(), &d, ids, GenerateOptions{MaxTokens: 64})
		if err != nil {
			b.Fatal(err)
		}
		ttft += st.FirstToken
		total += st.Total - st.FirstToken
		tokens += st.Tokens - 1
	}
	b.ReportMetric(ttft.Seconds()/float64(b.N), "s-first-token")
	b.ReportMetric(float64(tokens)/total.Seconds(), "tokens/s")
}
