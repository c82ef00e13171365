//go:build tensorflow

package models

// Real TensorFlow on CPU: testdata/tf/make_fixture.py (run by the project's python, which has
// TensorFlow) writes tiny SavedModels with the contract's signatures and Python's outputs for
// golden inputs; Go loads them and must serve the same numbers.
//
//   scripts/tf-env go test -tags tensorflow ./models          (make test-tf)
//   scripts/tf-env go test -tags tensorflow -run x -bench TFEncoder ./models   (make bench-tf)

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/gpu"
	"github.com/lawbot-kr/lawbot/search"
)

var (
	tfFixture    string // the fixture directory, when made
	tfFixtureErr string // why there is none
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		py := os.Getenv("LAWBOT_PYTHON")
		if py == "" {
			py = filepath.Join("..", "var", "tf-venv", "bin", "python")
		}
		if _, err := os.Stat(py); err != nil {
			tfFixtureErr = fmt.Sprintf("no python with TensorFlow to make the SavedModel fixture (%s: %v); run make setup or set LAWBOT_PYTHON", py, err)
			return m.Run()
		}
		dir, err := os.MkdirTemp("", "lawbot-tf-fixture-")
		if err != nil {
			tfFixtureErr = err.Error()
			return m.Run()
		}
		defer os.RemoveAll(dir)
		t0 := time.Now()
		out, err := exec.Command(py, filepath.Join("testdata", "tf", "make_fixture.py"), dir).CombinedOutput()
		if err != nil {
			fmt.Fprintf(os.Stderr, "make_fixture.py failed: %v\n%s", err, out)
			return 1
		}
		if testing.Verbose() {
			fmt.Fprintf(os.Stderr, "tf fixture made in %v\n", time.Since(t0).Round(time.Millisecond))
		}
		tfFixture = dir
		return m.Run()
	}()
	os.Exit(code)
}

func fixture(tb testing.TB, name string) string {
	tb.Helper()
	if tfFixture == "" {
		tb.Skip(tfFixtureErr)
	}
	return filepath.Join(tfFixture, name)
}

type golden struct {
	Inputs  [][]int32   `json:"inputs"`
	Outputs [][]float32 `json:"outputs"`
}

func readGolden(t *testing.T, dir string) golden {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "golden.json"))
	if err != nil {
		t.Fatal(err)
	}
	var g golden
	if err := json.Unmarshal(b, &g); err != nil {
		t.Fatal(err)
	}
	if len(g.Inputs) == 0 || len(g.Inputs) != len(g.Outputs) {
		t.Fatalf("golden.json: %d inputs, %d outputs", len(g.Inputs), len(g.Outputs))
	}
	return g
}

func maxAbsDiff(t *testing.T, got, want [][]float32) float64 {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d rows, want %d", len(got), len(want))
	}
	var d float64
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("row %d: width %d, want %d", i, len(got[i]), len(want[i]))
		}
		for j := range want[i] {
			d = math.Max(d, math.Abs(float64(got[i][j]-want[i][j])))
		}
	}
	return d
}

// fakeTokens maps "tN" to a deterministic id row whose length varies with N (ids in 1..63).
type fakeTokens struct{}

func (fakeTokens) Encode(text string) []int32 {
	n, err := strconv.Atoi(strings.TrimPrefix(text, "t"))
	if err != nil {
		return []int32{1}
	}
	ids := make([]int32, 1+n%13)
	for i := range ids {
		ids[i] = int32(1 + (n*7+i*11)%63)
	}
	return ids
}

func texts(n int) []string {
	s := make([]string, n)
	for i := range s {
		s[i] = "t" + strconv.Itoa(i)
	}
	return s
}

func TestTFEncoderGolden(t *testing.T) {
	dir := fixture(t, "encoder")
	g := readGolden(t, dir)
	e, err := LoadTFEncoder(dir, nil, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	if v := TensorFlowVersion(); !strings.HasPrefix(v, "2.18.") {
		t.Errorf("TensorFlowVersion() = %q, want 2.18.x", v)
	}
	if e.Dim() != 16 || e.MaxLen() != 32 || e.Dir() != dir {
		t.Errorf("Dim %d MaxLen %d Dir %q, want 16, 32, %q", e.Dim(), e.MaxLen(), e.Dir(), dir)
	}
	if b := e.Bytes(); b <= 0 || b != dirBytes(dir) {
		t.Errorf("Bytes() = %d, want the directory's %d", b, dirBytes(dir))
	}
	if ds := e.Devices(); len(ds) == 0 || ds[0].Type != "CPU" {
		t.Errorf("Devices() = %v, want the CPU first", ds)
	}
	// The golden inputs in one padded batch, and each alone.
	got, err := e.EmbedIDs(g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, got, g.Outputs); d > 1e-5 {
		t.Errorf("batched: max |go - python| = %g > 1e-5", d)
	} else {
		t.Logf("batched: max |go - python| = %g", d)
	}
	for i, ids := range g.Inputs {
		one, err := e.EmbedIDs([][]int32{ids})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, one, g.Outputs[i:i+1]); d > 1e-5 {
			t.Errorf("input %d alone: max |go - python| = %g > 1e-5", i, d)
		}
		var norm float64
		for _, x := range one[0] {
			norm += float64(x) * float64(x)
		}
		if math.Abs(norm-1) > 1e-5 {
			t.Errorf("input %d: |v|² = %g, want 1", i, norm)
		}
	}
}

func TestTFTaggerGolden(t *testing.T) {
	dir := fixture(t, "tagger")
	g := readGolden(t, dir)
	tg, err := LoadTFTagger(dir, fakeTokens{}, TFOptions{IntraOpThreads: 1, InterOpThreads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer tg.Close()
	if l := tg.Labels(); len(l) != 5 || l[0] != "민법 제600조" || l[4] != "민법 제604조" {
		t.Errorf("Labels() = %q", l)
	}
	got, err := tg.TagIDs(g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, got, g.Outputs); d > 1e-5 {
		t.Errorf("max |go - python| = %g > 1e-5", d)
	}
	s, err := tg.Tag("t5")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := tg.TagIDs([][]int32{fakeTokens{}.Encode("t5")})
	if d := maxAbsDiff(t, [][]float32{s}, want); d != 0 {
		t.Errorf("Tag vs TagIDs: %g", d)
	}
	for _, x := range s {
		if x < 0 || x > 1 {
			t.Errorf("score %g outside [0,1]", x)
		}
	}
}

func TestTFEncoderBatchSplit(t *testing.T) {
	e, err := LoadTFEncoder(fixture(t, "encoder"), fakeTokens{}, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	in := texts(100)
	runs := e.m.runs.Load()
	got, err := e.EmbedBatch(in)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.m.runs.Load() - runs; n != 2 {
		t.Errorf("100 texts took %d runs, want 2 (64 + 36)", n)
	}
	if len(got) != 100 {
		t.Fatalf("%d vectors for 100 texts", len(got))
	}
	for i, text := range in {
		one, err := e.EmbedIDs([][]int32{fakeTokens{}.Encode(text)})
		if err != nil {
			t.Fatal(err)
		}
		if d := maxAbsDiff(t, got[i:i+1], one); d > 1e-5 {
			t.Errorf("text %d: batched vs alone differ by %g", i, d)
		}
		if v := e.Embed(text); maxAbsDiff(t, [][]float32{v}, one) > 1e-5 {
			t.Errorf("text %d: Embed differs from EmbedIDs", i)
		}
	}
	runs = e.m.runs.Load()
	if v, err := e.EmbedBatch(nil); err != nil || len(v) != 0 || e.m.runs.Load() != runs {
		t.Errorf("empty batch: %v, %v, %d runs", v, err, e.m.runs.Load()-runs)
	}
	for n, want := range map[int]int64{64: 1, 65: 2, 128: 2, 129: 3} {
		runs = e.m.runs.Load()
		if _, err := e.EmbedBatch(texts(n)); err != nil {
			t.Fatal(err)
		}
		if got := e.m.runs.Load() - runs; got != want {
			t.Errorf("%d texts: %d runs, want %d", n, got, want)
		}
	}
}

func TestTFEncoderRows(t *testing.T) {
	e, err := LoadTFEncoder(fixture(t, "encoder"), nil, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	long := make([]int32, 40)
	for i := range long {
		long[i] = int32(1 + i%63)
	}
	got, err := e.EmbedIDs([][]int32{long, long[:32], {}, {1}})
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, got[:1], got[1:2]); d != 0 {
		t.Errorf("a row longer than max_len 32 is not cut: differs by %g", d)
	}
	if d := maxAbsDiff(t, got[2:3], got[3:4]); d != 0 {
		t.Errorf("an empty row is not the unknown token: differs by %g", d)
	}
	if _, err := e.EmbedBatch([]string{"x"}); err == nil || !strings.Contains(err.Error(), "without a tokeniser") {
		t.Errorf("EmbedBatch without a tokeniser: %v", err)
	}
	if _, err := e.EmbedIDs([][]int32{{64}}); err == nil {
		t.Error("an id outside the vocabulary: no error")
	}
}

func TestTFLoadErrors(t *testing.T) {
	enc, tag := fixture(t, "encoder"), fixture(t, "tagger")
	missing := filepath.Join(t.TempDir(), "nope")
	if _, err := LoadTFEncoder(missing, nil, TFOptions{}); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing dir: %v", err)
	}
	if _, err := LoadTFEncoder(t.TempDir(), nil, TFOptions{}); err == nil || !strings.Contains(err.Error(), "no saved_model.pb") {
		t.Errorf("empty dir: %v", err)
	}
	if _, err := LoadTFEncoder(tag, nil, TFOptions{}); err == nil || !strings.Contains(err.Error(), `no signature "embed" (it has "tag")`) {
		t.Errorf("encoder from the tagger's dir: %v", err)
	}
	if _, err := LoadTFTagger(enc, nil, TFOptions{}); err == nil || !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "labels.txt") {
		t.Errorf("tagger without labels.txt: %v", err)
	}
	// The encoder's SavedModel beside a labels.txt: still no "tag" signature.
	dir := copyDir(t, enc)
	os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("a\nb\n"), 0o644)
	if _, err := LoadTFTagger(dir, nil, TFOptions{}); err == nil || !strings.Contains(err.Error(), `no signature "tag" (it has "embed", "serving_default")`) {
		t.Errorf("tagger from the encoder's dir: %v", err)
	}
	// Labels that do not match the scores.
	dir = copyDir(t, tag)
	os.WriteFile(filepath.Join(dir, "labels.txt"), []byte("a\nb\n"), 0o644)
	if _, err := LoadTFTagger(dir, nil, TFOptions{}); err == nil || !strings.Contains(err.Error(), "2 labels, the model scores 5") {
		t.Errorf("labels mismatch: %v", err)
	}
	if _, err := LoadTFEncoder(fixture(t, "bad_dtype"), nil, TFOptions{}); err == nil || !strings.Contains(err.Error(), `input "ids" is float32, want int32`) {
		t.Errorf("float ids: %v", err)
	}
	if _, err := LoadTFEncoder(enc, nil, TFOptions{IntraOpThreads: -1}); err == nil {
		t.Error("negative threads: no error")
	}
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	if err := os.CopyFS(dst, os.DirFS(src)); err != nil {
		t.Fatal(err)
	}
	return dst
}

func TestTFOptionsAndDevices(t *testing.T) {
	dir := fixture(t, "encoder")
	g := readGolden(t, dir)
	opt := TFOptions{IntraOpThreads: 1, InterOpThreads: 1, AllowGrowth: true}
	e, err := LoadTFEncoder(dir, nil, opt)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	got, err := e.EmbedIDs(g.Inputs)
	if err != nil {
		t.Fatal(err)
	}
	if d := maxAbsDiff(t, got, g.Outputs); d > 1e-5 {
		t.Errorf("one thread: max |go - python| = %g", d)
	}
	ds, err := Devices(opt)
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 || ds[0].Type != "CPU" || !strings.Contains(ds[0].Name, "CPU:0") {
		t.Errorf("Devices = %v, want the CPU first", ds)
	}
	t.Logf("devices: %+v", ds)
	so, err := sessionOptions(TFOptions{VisibleDevices: "0", AllowGrowth: true, IntraOpThreads: 2})
	if err != nil || so == nil || len(so.Config) == 0 {
		t.Errorf("sessionOptions: %v %v", so, err)
	}
	if so, err := sessionOptions(TFOptions{}); so != nil || err != nil {
		t.Errorf("default options: %v %v, want nil (TensorFlow's defaults)", so, err)
	}
}

func TestTFConcurrentAndClose(t *testing.T) {
	e, err := LoadTFEncoder(fixture(t, "encoder"), fakeTokens{}, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want, err := e.EmbedBatch(texts(40))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 40 {
				k := (i + w*5) % 40
				v := e.Embed("t" + strconv.Itoa(k))
				for j := range v {
					if math.Abs(float64(v[j]-want[k][j])) > 1e-5 {
						errs <- fmt.Errorf("worker %d text %d differs", w, k)
						return
					}
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	if err := e.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := e.EmbedIDs([][]int32{{1}}); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close: %v", err)
	}
	if v := e.Embed("t1"); len(v) != 16 || v[0] != 0 {
		t.Errorf("Embed after Close = %v, want the zero vector", v)
	}
}

// benchmarkTFEncoder times the fixture encoder on token-free texts or, with
// LAWBOT_BENCH_ENCODER=STATE/models/encoder.v1, a trained encoder on real questions (its own
// tokeniser, so the kagome analysis is part of the cost, as in serving).
func benchmarkTFEncoder(b *testing.B, batch int) {
	dir, tok := "", TokenEncoder(fakeTokens{})
	in := texts(batch)
	if real := os.Getenv("LAWBOT_BENCH_ENCODER"); real != "" {
		t, err := LoadTokenizer(real, search.DefaultAnalyzer())
		if err != nil {
			b.Fatal(err)
		}
		dir, tok = real, t
		for i := range in {
			in[i] = benchQuestions[i%len(benchQuestions)]
		}
	} else {
		dir = fixture(b, "encoder")
	}
	e, err := LoadTFEncoder(dir, tok, TFOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer e.Close()
	b.ResetTimer()
	for b.Loop() {
		if _, err := e.EmbedBatch(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "texts/s")
}

var benchQuestions = []string{
	"전세 계약이 끝났는데 집주인이 보증금을 안 돌려줘요. 어떻게 해야 하나요?",
	"회사에서 갑자기 해고 통보를 받았습니다. 해고예고수당을 받을 수 있나요?",
	"교통사고를 당했는데 가해자 보험사가 치료비를 제대로 주지 않습니다.",
	"이혼할 때 재산분할은 어떤 기준으로 정해지나요?",
}

// Latency (ns/op = one batch) and throughput (texts/s) of the tiny encoder on CPU.
func BenchmarkTFEncoderBatch1(b *testing.B)  { benchmarkTFEncoder(b, 1) }
func BenchmarkTFEncoderBatch64(b *testing.B) { benchmarkTFEncoder(b, 64) }

// A run whose ctx ends while a session run is in flight returns ctx's error at once; the session
// run finishes in the background (Close waits for it), no further run starts, and the result is
// dropped.
func TestTFRunAbandoned(t *testing.T) {
	e, err := LoadTFEncoder(fixture(t, "encoder"), fakeTokens{}, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	e.m.beforeRun = func() {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
	}
	runs := e.m.runs.Load()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := e.EmbedBatchContext(ctx, texts(200)) // 4 session runs
		done <- err
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned run: %v, want context.Canceled", err)
		}
	case <-time.After(100 * time.Millisecond):
		t.Fatal("the call did not return within 100 ms of its ctx ending")
	}
	closed := make(chan error, 1)
	go func() { closed <- e.Close() }()
	select {
	case <-closed:
		t.Fatal("Close released the session under a run in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(gate)
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if n := e.m.runs.Load() - runs; n != 1 {
		t.Errorf("%d session runs, want 1: none starts after the ctx ended", n)
	}
	if _, err := e.EmbedContext(ctx, "t1"); !errors.Is(err, context.Canceled) {
		t.Errorf("an ended ctx: %v", err)
	}
}

// The tiny tagger and encoder under the residency manager, both on demand: the tagger loaded on
// first use, released after the idle timeout, loaded again by the next question (with the same
// scores); a question abandoned mid-run keeps it acquired until the run returns; under a budget
// for one of the two, loading the encoder evicts the idle tagger.
func TestTFModelsOnDemand(t *testing.T) {
	tagDir, encDir := fixture(t, "tagger"), fixture(t, "encoder")
	direct, err := LoadTFTagger(tagDir, fakeTokens{}, TFOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	m := gpu.NewManager(gpu.Options{IdleTimeout: time.Minute, BudgetBytes: max(dirBytes(tagDir), dirBytes(encDir)), Now: clock.Now})
	defer m.Close()
	for _, s := range []gpu.Spec{
		{Name: TaggerModelName, Backend: gpu.BackendTensorFlow, Bytes: dirBytes(tagDir),
			Load: func(context.Context) (gpu.Model, error) { return LoadTFTagger(tagDir, fakeTokens{}, TFOptions{}) }},
		{Name: EncoderModelName, Backend: gpu.BackendTensorFlow, Bytes: dirBytes(encDir),
			Load: func(context.Context) (gpu.Model, error) { return LoadTFEncoder(encDir, fakeTokens{}, TFOptions{}) }},
	} {
		if err := m.Register(s); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	if err := m.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if modelStatus(t, m, TaggerModelName).Loaded {
		t.Fatal("the on-demand tagger was loaded at start")
	}
	tagger, err := NewManagedTagger(ctx, m, TaggerModelName)
	if err != nil {
		t.Fatal(err)
	}
	want, err := direct.Tag("t5")
	if err != nil {
		t.Fatal(err)
	}
	tag := func(when string) {
		t.Helper()
		got, err := tagger.Tag("t5")
		if err != nil || maxAbsDiff(t, [][]float32{got}, [][]float32{want}) != 0 {
			t.Fatalf("%s: %v %v, want %v", when, got, err, want)
		}
	}
	tag("first use")
	clock.advance(61 * time.Second)
	if n := m.Sweep(); n != 1 || modelStatus(t, m, TaggerModelName).Loaded {
		t.Fatalf("not released after the idle timeout (swept %d)", n)
	}
	tag("after the release")
	if s := modelStatus(t, m, TaggerModelName); !s.Loaded || s.Loads != 2 || s.IdleReleases != 1 {
		t.Fatalf("not loaded again: %+v", s)
	}

	// Abandoned mid-run: the call returns, the tagger stays in use until the run returns. The
	// calls above hand the tagger back when their runs end, which a loaded machine may do a
	// moment after they returned: start from nobody holding it.
	for deadline := time.Now().Add(5 * time.Second); modelStatus(t, m, TaggerModelName).InUse != 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the calls above never handed the tagger back")
		}
	}
	model, release, err := m.Acquire(ctx, TaggerModelName)
	if err != nil {
		t.Fatal(err)
	}
	gate, started := make(chan struct{}), make(chan struct{}, 1)
	model.(*TFTagger).m.beforeRun = func() {
		select {
		case started <- struct{}{}:
		default:
		}
		<-gate
	}
	release()
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() {
		_, err := tagger.TagContext(runCtx, "t7")
		done <- err
	}()
	<-started
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("abandoned question: %v", err)
		}
	case <-time.After(100 * time.Millisecond):
		t.Fatal("the question did not return within 100 ms of its ctx ending")
	}
	clock.advance(2 * time.Minute)
	if s := modelStatus(t, m, TaggerModelName); s.InUse != 1 || m.Sweep() != 0 {
		t.Fatalf("the tagger was let go under its run: %+v", s)
	}
	close(gate)
	deadline := time.Now().Add(5 * time.Second)
	for modelStatus(t, m, TaggerModelName).InUse != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the run never released the tagger")
		}
		time.Sleep(time.Millisecond)
	}
	model.(*TFTagger).m.beforeRun = nil

	// A budget for one of them: loading the encoder evicts the idle tagger.
	tag("before the encoder")
	enc, err := NewManagedEncoder(ctx, m, EncoderModelName)
	if err != nil {
		t.Fatal(err)
	}
	if s := modelStatus(t, m, TaggerModelName); s.Loaded || s.Evictions != 1 {
		t.Errorf("tagger %+v, want evicted for the encoder", s)
	}
	if v, err := enc.EmbedContext(ctx, "t3"); err != nil || len(v) != 16 || enc.Dir() != encDir {
		t.Errorf("encoder through the manager: %v %v, dir %q", v, err, enc.Dir())
	}
	tag("after the eviction")
	if s := modelStatus(t, m, EncoderModelName); s.Loaded || s.Evictions != 1 {
		t.Errorf("encoder %+v, want evicted for the tagger", s)
	}
}
