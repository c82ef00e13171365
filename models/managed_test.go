package models

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
)

// fakeModel is a loaded model of a fake loader: a tagger with two labels and an encoder of two
// dimensions at once. While gate is set, each run waits for it (a slow TensorFlow run).
type fakeModel struct {
	bytes  int64
	gate   chan struct{}
	runs   atomic.Int64
	closed atomic.Bool
}

func (f *fakeModel) Bytes() int64 { return f.bytes }
func (f *fakeModel) Close() error {
	f.closed.Store(true)
	return nil
}
func (f *fakeModel) Labels() []string { return []string{"민법 제618조", "민법 제623조"} }
func (f *fakeModel) Dim() int         { return 2 }

func (f *fakeModel) run(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, 0, len(texts))
	for _, text := range texts {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		f.runs.Add(1)
		if f.gate != nil {
			<-f.gate
		}
		out = append(out, []float32{float32(len(text)), 1})
	}
	return out, nil
}

func (f *fakeModel) tagBatch(ctx context.Context, texts []string) ([][]float32, error) {
	return f.run(ctx, texts)
}

func (f *fakeModel) embedBatch(ctx context.Context, texts []string) ([][]float32, error) {
	return f.run(ctx, texts)
}

// fakeLoader registers models whose loads it counts; the last model loaded of each name is kept
// so a test can slow it down.
type fakeLoader struct {
	loaded map[string]*fakeModel
	gate   chan struct{}
}

func (l *fakeLoader) spec(name string, bytes int64, resident bool) gpu.Spec {
	return gpu.Spec{Name: name, Backend: gpu.BackendTensorFlow, Resident: resident, Bytes: bytes,
		Load: func(context.Context) (gpu.Model, error) {
			m := &fakeModel{bytes: bytes, gate: l.gate}
			l.loaded[name] = m
			return m, nil
		}}
}

func modelStatus(t *testing.T, m *gpu.Manager, name string) gpu.ModelStatus {
	t.Helper()
	for _, s := range m.Status() {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("%s is not registered", name)
	return gpu.ModelStatus{}
}

// The tagger and the encoder under the residency manager, as the policy places them: the
// encoder loaded at start and kept; the tagger loaded on first use, released after the idle
// timeout, loaded again by the next question; under the budget the least recently used idle
// model is evicted first, and never the resident encoder.
func TestManagedModelsOnDemand(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	m := gpu.NewManager(gpu.Options{IdleTimeout: time.Minute, BudgetBytes: 300, Now: clock.Now})
	defer m.Close()
	l := &fakeLoader{loaded: map[string]*fakeModel{}}
	for _, s := range []gpu.Spec{
		l.spec(EncoderModelName, 50, true), l.spec(TaggerModelName, 100, false),
		l.spec("other", 100, false), l.spec("third", 100, false),
	} {
		if err := m.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if !modelStatus(t, m, EncoderModelName).Loaded || modelStatus(t, m, TaggerModelName).Loaded {
		t.Fatalf("after start: %+v", m.Status())
	}
	enc, err := NewManagedEncoder(ctx, m, EncoderModelName)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := enc.EmbedContext(ctx, "abc"); err != nil || !slices.Equal(v, []float32{3, 1}) || enc.Dim() != 2 {
		t.Fatalf("embed: %v %v, dim %d", v, err, enc.Dim())
	}
	tagger, err := NewManagedTagger(ctx, m, TaggerModelName)
	if err != nil {
		t.Fatal(err)
	}
	if len(tagger.Labels()) != 2 {
		t.Errorf("labels %q", tagger.Labels())
	}
	tag := func(when string) {
		t.Helper()
		clock.advance(time.Second)
		if s, err := tagger.Tag("전세"); err != nil || !slices.Equal(s, []float32{6, 1}) {
			t.Fatalf("%s: tag %v %v", when, s, err)
		}
	}
	tag("first use")
	if s := modelStatus(t, m, TaggerModelName); !s.Loaded || s.Loads != 1 || s.InUse != 0 {
		t.Fatalf("after the first question: %+v", s)
	}

	// Idle release, reload.
	clock.advance(61 * time.Second)
	if n := m.Sweep(); n != 1 {
		t.Fatalf("swept %d, want the tagger alone (the encoder is resident)", n)
	}
	if s := modelStatus(t, m, TaggerModelName); s.Loaded || s.IdleReleases != 1 || !l.loaded[TaggerModelName].closed.Load() {
		t.Fatalf("after the idle timeout: %+v", s)
	}
	tag("after the release")
	if s := modelStatus(t, m, TaggerModelName); !s.Loaded || s.Loads != 2 {
		t.Fatalf("not loaded again: %+v", s)
	}

	// Budget: encoder 50 + tagger 100 + other 100 = 250 of 300; the third needs the room of the
	// least recently used idle one.
	clock.advance(time.Second)
	if _, release, err := m.Acquire(ctx, "other"); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	clock.advance(time.Second)
	if _, release, err := m.Acquire(ctx, "third"); err != nil {
		t.Fatal(err)
	} else {
		release()
	}
	var evicted []string
	for _, s := range m.Status() {
		if s.Evictions > 0 {
			evicted = append(evicted, s.Name)
		}
	}
	if !slices.Equal(evicted, []string{TaggerModelName}) {
		t.Fatalf("evicted %v, want the tagger (used longest ago)", evicted)
	}
	tag("after the eviction") // loads again, evicting "other", now the least recently used
	if s := modelStatus(t, m, "other"); s.Loaded || s.Evictions != 1 {
		t.Errorf("other: %+v, want evicted for the tagger", s)
	}
	if s := modelStatus(t, m, TaggerModelName); !s.Loaded || s.Loads != 3 {
		t.Errorf("tagger: %+v, want loaded a third time", s)
	}
	if s := modelStatus(t, m, EncoderModelName); !s.Loaded || s.Evictions != 0 || s.Loads != 1 {
		t.Errorf("the resident encoder: %+v, want loaded once, never evicted", s)
	}
	if used, _ := m.Usage(); used > 300 {
		t.Errorf("%d bytes loaded, over the budget", used)
	}
}

// A call whose ctx ends while its run is in flight returns ctx's error at once; the model stays
// acquired (not released, not evicted) until the run returns, and its result is dropped.
func TestManagedModelAbandonedRun(t *testing.T) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	m := gpu.NewManager(gpu.Options{IdleTimeout: time.Minute, Now: clock.Now})
	defer m.Close()
	l := &fakeLoader{loaded: map[string]*fakeModel{}}
	if err := m.Register(l.spec(TaggerModelName, 100, false)); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tagger, err := NewManagedTagger(ctx, m, TaggerModelName)
	if err != nil {
		t.Fatal(err)
	}
	gate := make(chan struct{})
	l.loaded[TaggerModelName].gate = gate

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := tagger.TagBatchContext(runCtx, []string{"a", "b", "c"})
		done <- err
	}()
	waitUntil(t, "the run to start", func() bool { return l.loaded[TaggerModelName].runs.Load() == 1 })
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned call: %v, want context.Canceled", err)
		}
	case <-time.After(100 * time.Millisecond):
		t.Fatal("the call did not return within 100 ms of its ctx ending")
	}
	if s := modelStatus(t, m, TaggerModelName); s.InUse != 1 {
		t.Fatalf("while the abandoned run goes on: %+v, want the tagger still in use", s)
	}
	clock.advance(2 * time.Minute)
	if n := m.Sweep(); n != 0 {
		t.Fatal("the tagger was released under a run in flight")
	}
	close(gate)
	waitUntil(t, "the run to release the tagger", func() bool { return modelStatus(t, m, TaggerModelName).InUse == 0 })
	if n := l.loaded[TaggerModelName].runs.Load(); n != 1 {
		t.Errorf("%d runs, want 1: no run starts after the ctx ended", n)
	}
	// An ended ctx: nothing runs.
	if _, err := tagger.TagContext(runCtx, "d"); !errors.Is(err, context.Canceled) || l.loaded[TaggerModelName].runs.Load() != 1 {
		t.Errorf("with an ended ctx: %v", err)
	}
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// abandon's cases: work that finishes, work abandoned (finish waits for it), an ended ctx, and
// a ctx that cannot end (no goroutine needed).
func TestModelRunAbandon(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var finished atomic.Int64
	finish := func() { finished.Add(1) }
	if v, err := abandon(ctx, func() (int, error) { return 7, nil }, finish); v != 7 || err != nil || finished.Load() != 1 {
		t.Errorf("finished work: %d %v, finish ran %d times", v, err, finished.Load())
	}
	if v, err := abandon(context.Background(), func() (int, error) { return 8, nil }, finish); v != 8 || err != nil || finished.Load() != 2 {
		t.Errorf("work under a ctx that cannot end: %d %v, finish ran %d times", v, err, finished.Load())
	}
	gate, started := make(chan struct{}), make(chan struct{})
	go func() { <-started; cancel() }()
	v, err := abandon(ctx, func() (int, error) { close(started); <-gate; return 9, nil }, finish)
	if v != 0 || !errors.Is(err, context.Canceled) {
		t.Errorf("abandoned work: %d %v", v, err)
	}
	if finished.Load() != 2 {
		t.Error("finish ran before the abandoned work returned")
	}
	close(gate)
	waitUntil(t, "finish after the abandoned work", func() bool { return finished.Load() == 3 })
	ran := false
	if _, err := abandon(ctx, func() (int, error) { ran = true; return 0, nil }, finish); !errors.Is(err, context.Canceled) || ran || finished.Load() != 4 {
		t.Errorf("an ended ctx: %v, work ran %v, finish ran %d times", err, ran, finished.Load())
	}
}

// A model that is not the kind asked for is refused, and released.
func TestManagedModelWrongKind(t *testing.T) {
	m := gpu.NewManager(gpu.Options{})
	defer m.Close()
	if err := m.Register(gpu.Spec{Name: "lsa", Bytes: 1, Load: func(context.Context) (gpu.Model, error) { return &LSA{}, nil }}); err != nil {
		t.Fatal(err)
	}
	if _, err := NewManagedTagger(context.Background(), m, "lsa"); err == nil || !strings.Contains(err.Error(), "not the model asked for") {
		t.Errorf("an LSA as the tagger: %v", err)
	}
	if s := modelStatus(t, m, "lsa"); s.InUse != 0 {
		t.Errorf("left acquired: %+v", s)
	}
}

// The LSA under the manager: the first load takes the one already opened, a reload reads the
// file; the managed embedder gives the LSA's own vectors.
func TestManagedModelLSA(t *testing.T) {
	e, err := FitLSA(topicDocs(), spaceAnalyzer{}, LSAOptions{Dim: 8, Oversample: 4, MinDocFreq: 2, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	path := LSAPath(t.TempDir())
	if err := e.Save(path); err != nil {
		t.Fatal(err)
	}
	m := gpu.NewManager(gpu.Options{IdleTimeout: -1}) // released as soon as unused
	defer m.Close()
	if err := m.Register(LSASpec(path, 1000, false, e, spaceAnalyzer{})); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	managed, err := NewManagedLSA(ctx, m, LSAModelName)
	if err != nil {
		t.Fatal(err)
	}
	text := "임차인 보증금 전세 경우"
	counts := []TermCount{{"임차인", 1}, {"보증금", 2}}
	for when := range 2 { // each call loads it again (idle timeout < 0): from the file
		if got := managed.Embed(text); !slices.Equal(got, e.Embed(text)) {
			t.Errorf("load %d: Embed differs from the LSA's", when+1)
		}
		if got := managed.EmbedCounts(counts); !slices.Equal(got, e.EmbedCounts(counts)) {
			t.Errorf("load %d: EmbedCounts differs from the LSA's", when+1)
		}
	}
	if s := modelStatus(t, m, LSAModelName); s.Loads != 5 || s.Bytes != e.Bytes() || managed.Dim() != 8 {
		t.Errorf("status %+v, dim %d; want loaded 5 times, %d bytes", s, managed.Dim(), e.Bytes())
	}

	// The first load takes the opened LSA: no file is read then (this one has none).
	m2 := gpu.NewManager(gpu.Options{IdleTimeout: -1})
	defer m2.Close()
	if err := m2.Register(LSASpec(path+".missing", 1000, false, e, spaceAnalyzer{})); err != nil {
		t.Fatal(err)
	}
	if _, err := NewManagedLSA(ctx, m2, LSAModelName); err != nil {
		t.Errorf("first load, from the opened LSA: %v", err)
	}
	if _, _, err := m2.Acquire(ctx, LSAModelName); !errors.Is(err, gpu.ErrLoadFailed) {
		t.Errorf("second load, from the missing file: %v", err)
	}
}

// fakeGenerator is a loaded generator that emits its prompt back word by word.
type fakeGenerator struct {
	fakeModel
	during func() // runs in the middle of a generation
}

func (f *fakeGenerator) Generate(ctx context.Context, prompt string, opt GenerateOptions, emit func(string) error) (GenerateStats, error) {
	words := strings.Fields(prompt)
	for i, w := range words {
		if i == 1 && f.during != nil {
			f.during()
		}
		if err := emit(w); err != nil {
			return GenerateStats{Tokens: i + 1, StopReason: "emit"}, err
		}
	}
	return GenerateStats{PromptTokens: len(words), Tokens: len(words), StopReason: "eos"}, nil
}
func (f *fakeGenerator) CountTokens(text string) int { return len(strings.Fields(text)) }
func (f *fakeGenerator) MaxContext() int             { return 2048 }
func (f *fakeGenerator) Name() string                { return "fake-lm@1" }

// The generator under the manager: resident, acquired for each generation and released after it.
func TestManagedGenerator(t *testing.T) {
	m := gpu.NewManager(gpu.Options{})
	defer m.Close()
	f := &fakeGenerator{fakeModel: fakeModel{bytes: 100}}
	if err := m.Register(gpu.Spec{Name: GeneratorModelName, Resident: true, Bytes: 100,
		Load: func(context.Context) (gpu.Model, error) { return f, nil }}); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	g, err := NewManagedGenerator(ctx, m, GeneratorModelName)
	if err != nil {
		t.Fatal(err)
	}
	if g.Name() != "fake-lm@1" || g.MaxContext() != 2048 || g.CountTokens("a b c") != 3 {
		t.Errorf("name %q, context %d, count %d", g.Name(), g.MaxContext(), g.CountTokens("a b c"))
	}
	inUse := -1
	f.during = func() { inUse = modelStatus(t, m, GeneratorModelName).InUse }
	var got []string
	st, err := g.Generate(ctx, "임대차 보증금 반환", GenerateOptions{}, func(p string) error { got = append(got, p); return nil })
	if err != nil || st.StopReason != "eos" || !slices.Equal(got, []string{"임대차", "보증금", "반환"}) {
		t.Errorf("generate: %v, %+v, %q", err, st, got)
	}
	if s := modelStatus(t, m, GeneratorModelName); inUse != 1 || s.InUse != 0 || !s.Resident || s.Loads != 1 {
		t.Errorf("in use %d during the generation; after: %+v", inUse, s)
	}
	if _, err := NewManagedGenerator(ctx, m, "missing"); err == nil {
		t.Error("a generator that is not registered")
	}
}

// The policy: one placement per model, the encoder resident (every request embeds the query),
// the tagger and the filter on demand, the LSA standing in for the encoder and listed after it,
// every path under the state's models directory.
func TestModelPolicy(t *testing.T) {
	want := map[string]bool{EncoderModelName: true, GeneratorModelName: true, TaggerModelName: false, FilterModelName: false, LSAModelName: true}
	seen := map[string]bool{}
	for _, p := range Policy {
		if r, ok := want[p.Name]; !ok || r != p.Resident || seen[p.Name] {
			t.Errorf("%s: resident %v (want %v), listed before: %v", p.Name, p.Resident, r, seen[p.Name])
		}
		if p.StandsInFor != "" && !seen[p.StandsInFor] {
			t.Errorf("%s stands in for %s, listed after it", p.Name, p.StandsInFor)
		}
		if dir := Dir("STATE"); !strings.HasPrefix(p.Path("STATE"), dir+"/") {
			t.Errorf("%s lives at %s, outside %s", p.Name, p.Path("STATE"), dir)
		}
		seen[p.Name] = true
	}
	if len(seen) != len(want) {
		t.Errorf("policy of %v, want %v", seen, want)
	}
	if p, ok := PlacementOf(LSAModelName); !ok || p.StandsInFor != EncoderModelName {
		t.Errorf("PlacementOf(lsa) = %+v, %v", p, ok)
	}
	if got := SavedModelDir("STATE", "encoder"); got != "STATE/models/encoder.v1" {
		t.Errorf("SavedModelDir = %s", got)
	}
}
