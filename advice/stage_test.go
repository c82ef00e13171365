package advice

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lawbot-kr/lawbot/search"
)

// countingEmbedder counts the embeddings asked of it.
type countingEmbedder struct {
	inner interface {
		Dim() int
		Embed(string) []float32
	}
	n atomic.Int64
}

func (c *countingEmbedder) Dim() int { return c.inner.Dim() }
func (c *countingEmbedder) Embed(text string) []float32 {
	c.n.Add(1)
	return c.inner.Embed(text)
}

// With every dense side on, one request embeds its question once.
func TestAdviseEmbedsTheQuestionOnce(t *testing.T) {
	r, _ := denseFixture(t)
	emb := &countingEmbedder{inner: r.Dense.Embedder}
	d := *r.Dense
	d.Embedder = emb
	d.Statutes = true
	withDense := *r
	withDense.Dense = &d
	p := NewPipeline(&withDense, nil)
	p.Params.DenseQA, p.Params.DensePrecedents = 0.5, 0.5
	p.Params.DenseStatutes, p.Params.DenseStatuteTop = 1, 5
	if _, err := p.Advise(context.Background(), "임대인이 보증금을 돌려주지 않는다", nil); err != nil {
		t.Fatal(err)
	}
	if n := emb.n.Load(); n != 1 {
		t.Errorf("the question was embedded %d times, want once", n)
	}
}

// fakeStage is a stage plugged into a pipeline in place of the standard ones: it takes as long
// as it is told to unless its ctx ends first, reports when it was let go, and notes what it
// found in the request.
type fakeStage struct {
	name  StageName
	takes time.Duration
	freed chan time.Time // nil: not reported
	err   error
	stop  bool
	seen  *[]string // the stages before it, read from the request
}

func (f fakeStage) Name() StageName { return f.name }

func (f fakeStage) Run(ctx context.Context, req *Request) error {
	select {
	case <-ctx.Done():
		if f.freed != nil {
			f.freed <- time.Now()
		}
		return ctx.Err()
	case <-time.After(f.takes):
	}
	if f.seen != nil {
		*f.seen = append(*f.seen, string(f.name)+" after "+req.Result.Legal.Explanation)
		req.Result.Legal.Explanation = string(f.name)
	}
	if f.stop {
		req.Stop()
	}
	return f.err
}

// blockingFilter is a legal check that takes as long as it is told to.
type blockingFilter struct{ d time.Duration }

func (b blockingFilter) Classify(string) (bool, float64) {
	time.Sleep(b.d)
	return true, 1
}

// A stage over its deadline ends the request with TIMEOUT while it runs, not when it finishes:
// a fake stage plugged into the pipeline, and the standard legal check with a slow filter.
func TestStageTimeoutWhileItRuns(t *testing.T) {
	for _, tt := range []struct {
		name string
		p    *Pipeline
	}{
		{"a slow fake stage", &Pipeline{Stages: []Stage{fakeStage{name: "SLOW", takes: 2 * time.Second}}}},
		{"a slow legal check", NewPipeline(retriever(t), blockingFilter{2 * time.Second})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.p.StageTimeout = 50 * time.Millisecond
			start := time.Now()
			_, err := tt.p.Advise(context.Background(), "보증금을 돌려받지 못했어요", nil)
			var coded *Error
			if !errors.As(err, &coded) || coded.Code != CodeTimeout {
				t.Fatalf("err = %v, want TIMEOUT", err)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("the request ended after %s; the stage's limit is 50 ms", d)
			}
		})
	}
}

// slowStore is a vector store whose search takes 5 s unless its ctx ends first; it reports
// when it was let go.
type slowStore struct {
	search.Store
	freed chan time.Time
}

func (s slowStore) Search(ctx context.Context, _ search.Vector, _ int, _ search.Filter) ([]search.Match, error) {
	select {
	case <-ctx.Done():
		s.freed <- time.Now()
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
		return nil, nil
	}
}

// slowTagger is a statute tagger whose run takes 5 s unless the request's ctx ends first.
type slowTagger struct{ freed chan time.Time }

func (slowTagger) Labels() []string { return []string{"민법 제618조"} }

func (slowTagger) Tag(string) ([]float32, error) {
	time.Sleep(5 * time.Second)
	return []float32{1}, nil
}

func (s slowTagger) TagContext(ctx context.Context, _ string) ([]float32, error) {
	select {
	case <-ctx.Done():
		s.freed <- time.Now()
		return nil, ctx.Err()
	case <-time.After(5 * time.Second):
		return []float32{1}, nil
	}
}

// loadingFilter is a legal check waiting 5 s for its model to load unless the request's ctx
// ends first.
type loadingFilter struct{ freed chan time.Time }

func (loadingFilter) Classify(string) (bool, float64) {
	time.Sleep(5 * time.Second)
	return true, 1
}

func (f loadingFilter) ClassifyContext(ctx context.Context, _ string) (bool, float64) {
	select {
	case <-ctx.Done():
		f.freed <- time.Now()
	case <-time.After(5 * time.Second):
	}
	return true, 1
}

// A client that goes away mid-stage is let go at once, and the stage's blocking work is called
// off with it, within 100 ms: a slow fake stage plugged into the pipeline, the standard
// similar-questions stage waiting on a slow vector store, the statute ranking waiting on a slow
// tagger, and the legal check waiting for its model.
func TestClientLeavingFreesTheWork(t *testing.T) {
	r, _ := denseFixture(t)
	freed := make(chan time.Time, 4)
	slow := *r
	d := *r.Dense
	d.Store = slowStore{freed: freed}
	slow.Dense = &d
	withSlowStore := NewPipeline(&slow, nil)
	withSlowStore.Params.DenseQA = 0.5
	tagged := *retriever(t)
	if tagged.SetTagger(slowTagger{freed: freed}) != 1 {
		t.Fatal("the slow tagger's article is not in the fixture")
	}
	withSlowTagger := NewPipeline(&tagged, nil)
	withSlowTagger.Params.Tagger, withSlowTagger.Params.TaggerTop = 1, 5
	for _, tt := range []struct {
		name string
		p    *Pipeline
	}{
		{"a slow fake stage", &Pipeline{Stages: []Stage{fakeStage{name: "SLOW", takes: 5 * time.Second, freed: freed}},
			StageTimeout: 10 * time.Second, Counters: &Counters{}}},
		{"a slow vector store", withSlowStore},
		{"a slow tagger", withSlowTagger},
		{"a filter waiting for its model", NewPipeline(retriever(t), loadingFilter{freed: freed})},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			var left atomic.Pointer[time.Time]
			go func() {
				time.Sleep(100 * time.Millisecond) // well inside the slow stage
				now := time.Now()
				left.Store(&now)
				cancel()
			}()
			_, err := tt.p.Advise(ctx, "임대인이 보증금을 돌려주지 않는다", nil)
			returned := time.Now()
			var coded *Error
			if !errors.As(err, &coded) || coded.Code != CodeClientClosed {
				t.Fatalf("err = %v, want CLIENT_CLOSED", err)
			}
			if d := returned.Sub(*left.Load()); d > 100*time.Millisecond {
				t.Errorf("Advise returned %s after the client left", d)
			}
			select {
			case at := <-freed:
				if d := at.Sub(*left.Load()); d > 100*time.Millisecond {
					t.Errorf("the stage's work was let go %s after the client left", d)
				}
			case <-time.After(time.Second):
				t.Fatal("the stage's work was never called off")
			}
			if n := tt.p.Counters.DenseFailures.Load() + tt.p.Counters.TaggerFailures.Load(); n != 0 {
				t.Errorf("a client leaving was counted as %d failures of the vector store or the tagger", n)
			}
		})
	}
}

// Stages run in order over one request, each reported when it ends (but the answer's and the
// citation check's), and timed; Stop ends the request after the running stage, an error at once.
func TestPipelineRunsItsStages(t *testing.T) {
	broken := errors.New("broken stage")
	for _, tt := range []struct {
		name    string
		stages  func(seen *[]string) []Stage
		err     error
		seen    []string
		events  []StageName
		timings []StageName
	}{
		{"in order", func(seen *[]string) []Stage {
			return []Stage{fakeStage{name: "A", seen: seen}, fakeStage{name: StageAnswerDelta, seen: seen},
				fakeStage{name: StageCitations, seen: seen}, fakeStage{name: "B", seen: seen}}
		}, nil, []string{"A after ", "ANSWER_DELTA after A", "CITATIONS after ANSWER_DELTA", "B after CITATIONS"},
			[]StageName{"A", "B", StageDone}, []StageName{"A", StageAnswerDelta, StageCitations, "B"}},
		{"stopped", func(seen *[]string) []Stage {
			return []Stage{fakeStage{name: "A", seen: seen, stop: true}, fakeStage{name: "B", seen: seen}}
		}, nil, []string{"A after "}, []StageName{"A", StageDone}, []StageName{"A"}},
		{"failed", func(seen *[]string) []Stage {
			return []Stage{fakeStage{name: "A", seen: seen, err: broken}, fakeStage{name: "B", seen: seen}}
		}, broken, []string{"A after "}, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var seen []string
			p := &Pipeline{Stages: tt.stages(&seen), StageTimeout: time.Second}
			var events []StageName
			res, err := p.Advise(context.Background(), "보증금", func(e Event) { events = append(events, e.Stage) })
			if !errors.Is(err, tt.err) {
				t.Fatalf("err = %v, want %v", err, tt.err)
			}
			if !slices.Equal(seen, tt.seen) {
				t.Errorf("stages saw %q, want %q", seen, tt.seen)
			}
			if !slices.Equal(events, tt.events) {
				t.Errorf("events %v, want %v", events, tt.events)
			}
			if res == nil {
				return
			}
			for _, s := range tt.timings {
				if _, ok := res.Timings[s]; !ok {
					t.Errorf("no timing for %s: %v", s, res.Timings)
				}
			}
			if len(res.Timings) != len(tt.timings) {
				t.Errorf("timings %v, want %v", res.Timings, tt.timings)
			}
		})
	}
}

// panicStage fails the way a bug does.
type panicStage struct{}

func (panicStage) Name() StageName                     { return "PANIC" }
func (panicStage) Run(context.Context, *Request) error { panic("a bug") }

// A panic in a stage reaches the caller's goroutine, where the request's recovery expects it.
func TestStagePanicReachesTheCaller(t *testing.T) {
	defer func() {
		if v := recover(); v != "a bug" {
			t.Errorf("recovered %v, want the stage's panic", v)
		}
	}()
	p := &Pipeline{Stages: []Stage{panicStage{}}}
	p.Advise(context.Background(), "보증금", nil)
	t.Error("Advise returned")
}
