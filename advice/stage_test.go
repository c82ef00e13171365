package advice

import (
	"context"
	"errors"
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
	withDense := *r
	withDense.Params.DenseQA, withDense.Params.DensePrecedents = 0.5, 0.5
	emb := &countingEmbedder{inner: r.Dense.Embedder}
	d := *r.Dense
	d.Embedder = emb
	d.Statutes = true
	withDense.Dense = &d
	withDense.Params.DenseStatutes, withDense.Params.DenseStatuteTop = 1, 5
	p := NewPipeline(&withDense, nil)
	if _, err := p.Advise(context.Background(), "임대인이 보증금을 돌려주지 않는다", nil); err != nil {
		t.Fatal(err)
	}
	if n := emb.n.Load(); n != 1 {
		t.Errorf("the question was embedded %d times, want once", n)
	}
}

// blockingFilter is a legal check that takes as long as it is told to.
type blockingFilter struct{ d time.Duration }

func (b blockingFilter) Classify(string) (bool, float64) {
	time.Sleep(b.d)
	return true, 1
}

// A stage over its deadline ends the request with TIMEOUT while it runs, not when it finishes.
func TestStageTimeoutWhileItRuns(t *testing.T) {
	p := NewPipeline(retriever(t), blockingFilter{2 * time.Second})
	p.StageTimeout = 50 * time.Millisecond
	start := time.Now()
	_, err := p.Advise(context.Background(), "보증금을 돌려받지 못했어요", nil)
	var coded *Error
	if !errors.As(err, &coded) || coded.Code != CodeTimeout {
		t.Fatalf("err = %v, want TIMEOUT", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the request ended after %s; the stage's limit is 50 ms", d)
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

// A client that goes away mid-stage is let go at once, and the stage's blocking work (here the
// vector store's search) is called off with it, within 100 ms.
func TestClientLeavingFreesTheWork(t *testing.T) {
	r, _ := denseFixture(t)
	slow := *r
	slow.Params.DenseQA = 0.5
	freed := make(chan time.Time, 4)
	d := *r.Dense
	d.Store = slowStore{freed: freed}
	slow.Dense = &d
	p := NewPipeline(&slow, nil)
	ctx, cancel := context.WithCancel(context.Background())
	var left time.Time
	go func() {
		time.Sleep(100 * time.Millisecond) // well inside the similar-questions stage
		left = time.Now()
		cancel()
	}()
	slow.Counters = &Counters{}
	_, err := p.Advise(ctx, "임대인이 보증금을 돌려주지 않는다", nil)
	returned := time.Now()
	var coded *Error
	if !errors.As(err, &coded) || coded.Code != CodeClientClosed {
		t.Fatalf("err = %v, want CLIENT_CLOSED", err)
	}
	if d := returned.Sub(left); d > 100*time.Millisecond {
		t.Errorf("Advise returned %s after the client left", d)
	}
	select {
	case at := <-freed:
		if d := at.Sub(left); d > 100*time.Millisecond {
			t.Errorf("the store's search was let go %s after the client left", d)
		}
	case <-time.After(time.Second):
		t.Fatal("the store's search was never called off")
	}
	if slow.Counters.DenseFailures.Load() != 0 {
		t.Error("a client leaving was counted as a failure of the vector store")
	}
}
